//! Manifests on the wire: fetching one (Ollama's `Accept` header, a size
//! cap, Ollama's error strings) and listing the blobs it references with
//! every digest checked strictly before anything uses it.

use hearth_store::manifest::media_type;
use hearth_store::{Digest, Manifest, Name};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;

use crate::client::{read_capped, status_error, Registry};
use crate::error::{RegistryError, Result};

/// Real manifests are a few kilobytes.
const MAX_MANIFEST: usize = 4 << 20;

/// One blob a manifest references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlobRef {
    pub digest: Digest,
    pub size: u64,
}

/// Fetches the manifest bytes of a tag (redirects followed, the token
/// sent only to the registry itself).
pub(crate) async fn fetch(reg: &Registry, tag: &str) -> Result<Vec<u8>> {
    let url = reg.url(&format!("manifests/{tag}"))?;
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(media_type::MANIFEST));
    let response = reg.get_following(url, headers).await?;
    match response.status() {
        StatusCode::NOT_FOUND => Err(RegistryError::ManifestNotFound),
        s if s.is_success() => Ok(read_capped(response, MAX_MANIFEST, "manifest")
            .await?
            .to_vec()),
        _ => Err(status_error("pull model manifest", response).await),
    }
}

/// Uploads manifest bytes verbatim under `name`'s tag.
pub(crate) async fn put(reg: &mut Registry, name: &Name, bytes: Vec<u8>) -> Result<()> {
    let manifest = Manifest::from_slice(&bytes)?;
    let content_type = if manifest.media_type.is_empty() {
        media_type::MANIFEST.to_string()
    } else {
        manifest.media_type
    };
    let url = reg.url(&format!("manifests/{}", name.tag))?;
    let body = bytes::Bytes::from(bytes);
    let response = reg
        .send(|http| {
            http.put(url.clone())
                .header(CONTENT_TYPE, content_type.as_str())
                .body(body.clone())
        })
        .await?;
    if !response.status().is_success() {
        return Err(status_error("push model manifest", response).await);
    }
    Ok(())
}

/// The distinct blobs of a manifest, layers first, then the config.
///
/// Each digest must be exactly `sha256:` and 64 lowercase hex digits (the
/// OCI form; the store's parser is more lenient for files Ollama wrote),
/// so a hostile manifest is refused before any request or path is built
/// from it. Duplicates are listed once, so each is fetched and verified.
pub(crate) fn blobs(bytes: &[u8]) -> Result<Vec<BlobRef>> {
    let manifest = Manifest::from_slice(bytes)?;
    let mut out: Vec<BlobRef> = Vec::new();
    for layer in manifest.all_layers() {
        let digest = strict_digest(&layer.digest)?;
        if !out.iter().any(|b| b.digest == digest) {
            out.push(BlobRef {
                digest,
                size: layer.size,
            });
        }
    }
    if out.is_empty() {
        return Err(RegistryError::Protocol("manifest has no layers".into()));
    }
    Ok(out)
}

pub(crate) fn strict_digest(s: &str) -> Result<Digest> {
    match Digest::parse(s) {
        Ok(d) if d.to_string() == s => Ok(d),
        _ => Err(RegistryError::InvalidDigest(s.chars().take(100).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_with(digests: &[&str]) -> Vec<u8> {
        let layers: Vec<_> = digests
            .iter()
            .map(|d| serde_json::json!({"mediaType": media_type::MODEL, "digest": d, "size": 3}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "layers": layers})).unwrap()
    }

    #[test]
    fn lists_distinct_blobs() {
        let d = Digest::of_bytes(b"abc").to_string();
        let blobs = blobs(&manifest_with(&[&d, &d])).unwrap();
        assert_eq!(blobs.len(), 1);
        assert_eq!(blobs[0].size, 3);
    }

    #[test]
    fn refuses_anything_but_canonical_digests() {
        let hex = Digest::of_bytes(b"abc").hex().to_string();
        for bad in [
            "../../../../etc/passwd".to_string(),
            "sha256:../../x".to_string(),
            format!("sha256-{hex}"),
            format!("sha256:{}", hex.to_ascii_uppercase()),
            format!("sha256:{hex}/.."),
            String::new(),
        ] {
            let err = blobs(&manifest_with(&[&bad])).unwrap_err();
            assert!(
                matches!(err, RegistryError::InvalidDigest(_)),
                "{bad}: {err}"
            );
        }
        assert!(blobs(b"[]").is_err());
        assert!(blobs(&manifest_with(&[])).is_err());
    }
}
