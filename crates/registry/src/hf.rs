//! Hugging Face pulls: `hf.co/<user>/<repo>[:<quant>]` (or
//! `huggingface.co/…`) becomes an ordinary model whose one layer is a GGUF
//! file of the repository; its chat template is read from the GGUF when
//! the model runs.
//!
//! Two ways, in Ollama's order:
//! 1. the registry dialect Hugging Face serves for Ollama
//!    (`GET <endpoint>/v2/<user>/<repo>/manifests/<quant>`, `latest` being
//!    the repository's default quantization), pulled like any registry;
//! 2. when that endpoint does not know the repository (404 or another 4xx),
//!    the file API: the repository listing (`/api/models/<repo>/tree/main`)
//!    names the GGUF files with their LFS sha256 and size; the tag picks
//!    one (case-insensitive, `Q4_K_M` for `latest`), which is downloaded
//!    from `/<repo>/resolve/main/<file>` like any blob (ranged parts,
//!    redirect to the CDN without credentials, digest verified) and
//!    described by a manifest and config written locally.
//!
//! The endpoint is `HEARTH_HF_ENDPOINT` (tests point it at a local server).

use std::sync::Arc;

use hearth_store::manifest::{media_type, Layer};
use hearth_store::{ConfigV2, GgufInfo, Name, Store};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::client::{read_capped, status_error, Registry};
use crate::error::{RegistryError, Result};
use crate::manifest::{self, strict_digest, BlobRef};
use crate::progress::{Progress, Reporter};
use crate::pull::{blocking, fetch_blobs, install, remove_replaced, undo_on_error};
use crate::Options;

/// Where Hugging Face is reached when `HEARTH_HF_ENDPOINT` is not set.
pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";
/// The quantization `latest` stands for (Hugging Face's own default).
const DEFAULT_QUANT: &str = "Q4_K_M";
/// What `latest` falls back to, in order, when there is no `Q4_K_M` file.
const PREFERRED_QUANTS: [&str; 8] = [
    DEFAULT_QUANT,
    "Q4_K_S",
    "Q4_0",
    "Q5_K_M",
    "Q6_K",
    "Q8_0",
    "F16",
    "BF16",
];
/// Repository listings are JSON arrays of a few hundred entries at most.
const MAX_LISTING: usize = 8 << 20;

/// Whether a name's host is Hugging Face's (`hf.co`, `huggingface.co`).
pub fn is_hf_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("hf.co") || host.eq_ignore_ascii_case("huggingface.co")
}

/// The endpoint as a base URL with a trailing slash.
fn endpoint(opts: &Options) -> Result<Url> {
    let raw = opts
        .hf_endpoint
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_HF_ENDPOINT);
    let mut url = Url::parse(raw.trim())
        .map_err(|e| RegistryError::Protocol(format!("bad HEARTH_HF_ENDPOINT {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RegistryError::Protocol(format!(
            "HEARTH_HF_ENDPOINT must be an http(s) URL, not {raw:?}"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

pub(crate) async fn pull(
    store: &Store,
    name: &Name,
    opts: &Options,
    progress: &mut Reporter<'_>,
) -> Result<()> {
    name.validate()?;
    let repo = name.display_namespace_model();
    let reg = Arc::new(Registry::at(endpoint(opts)?, repo.clone())?);
    progress(Progress::Status("pulling manifest"));
    match manifest::fetch(&reg, &name.tag).await {
        Ok(bytes) => return install(store, name, opts, &reg, bytes, progress).await,
        Err(e) if falls_back(&e) => {
            tracing::info!(%repo, error = %e, "no registry manifest on Hugging Face; using the file API");
        }
        Err(e) => return Err(e),
    }
    let file = pick_file(&reg, &repo, &name.tag).await?;
    let url = file_url(&reg, &repo, &file.path)?;
    let blob = file.blob.clone();
    let fetched = fetch_blobs(store, opts, &reg, &[(blob.clone(), url)], progress).await?;
    progress(Progress::Status("verifying sha256 digest"));
    progress(Progress::Status("writing manifest"));
    let target = name.clone();
    // A file that is not a valid GGUF never becomes a model (nor stays).
    let written = blocking(store, move |s| {
        let path = s.blob_path(&blob.digest);
        let info = GgufInfo::read_validated(&path)?;
        let layer = Layer::new(media_type::MODEL, &blob.digest, blob.size);
        s.create_manifest_replacing(&target, vec![layer], &config_of(&info))
    })
    .await;
    let replaced = undo_on_error(store, fetched, written).await?;
    remove_replaced(store, opts, replaced, progress).await
}

/// The registry dialect did not find the repository or tag: a 404, or
/// Hugging Face's 400 for repositories it cannot serve that way.
fn falls_back(e: &RegistryError) -> bool {
    match e {
        RegistryError::ManifestNotFound => true,
        RegistryError::Status { status, .. } => (400..500).contains(status),
        _ => false,
    }
}

/// One file of a repository listing.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "type", default)]
    kind: String,
    path: String,
    lfs: Option<Lfs>,
}

#[derive(Debug, Deserialize)]
struct Lfs {
    /// The sha256 of the file, hex.
    oid: String,
    size: u64,
}

/// A GGUF file chosen for a tag.
#[derive(Debug, Clone)]
struct HfFile {
    path: String,
    blob: BlobRef,
}

/// Lists the repository and picks the GGUF file for `tag`.
async fn pick_file(reg: &Registry, repo: &str, tag: &str) -> Result<HfFile> {
    let url = reg.join(&format!("api/models/{repo}/tree/main"))?;
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let response = reg.get_following(url, headers).await?;
    if response.status() == StatusCode::NOT_FOUND {
        return Err(RegistryError::ManifestNotFound);
    }
    if !response.status().is_success() {
        return Err(status_error("list Hugging Face repository", response).await);
    }
    let body = read_capped(response, MAX_LISTING, "repository listing").await?;
    let entries: Vec<Entry> = serde_json::from_slice(&body)
        .map_err(|e| RegistryError::Protocol(format!("bad repository listing: {e}")))?;
    let ggufs: Vec<&Entry> = entries.iter().filter(|e| is_model_gguf(e)).collect();
    let chosen = choose(&ggufs, tag).ok_or_else(|| RegistryError::HfNoFile {
        repo: format!("hf.co/{repo}"),
        quant: quant_of(tag).to_string(),
        available: if ggufs.is_empty() {
            "none".to_string()
        } else {
            ggufs
                .iter()
                .map(|e| e.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
    })?;
    if is_split(&chosen.path) {
        return Err(RegistryError::Protocol(format!(
            "{} is one shard of a split GGUF; split models are not supported",
            chosen.path
        )));
    }
    let lfs = chosen.lfs.as_ref().ok_or_else(|| {
        RegistryError::Protocol(format!("{} is not stored with a sha256 (LFS)", chosen.path))
    })?;
    let digest = strict_digest(&format!("sha256:{}", lfs.oid))?;
    Ok(HfFile {
        path: chosen.path.clone(),
        blob: BlobRef {
            digest,
            size: lfs.size,
        },
    })
}

/// A top-level `.gguf` file that is not a multimodal projector.
fn is_model_gguf(e: &Entry) -> bool {
    let lower = e.path.to_ascii_lowercase();
    e.kind == "file"
        && lower.ends_with(".gguf")
        && !lower.contains('/')
        && !lower.contains("mmproj")
}

fn quant_of(tag: &str) -> &str {
    if tag.eq_ignore_ascii_case("latest") {
        DEFAULT_QUANT
    } else {
        tag
    }
}

/// The file for `tag`: one whose name carries the quantization as a word
/// (`…-Q4_K_M.gguf`, `….q4_k_m.gguf`); for `latest` the first of
/// [`PREFERRED_QUANTS`] present, or the only GGUF there is. Among several
/// matches the shortest name wins (the plain file over variants).
fn choose<'a>(files: &[&'a Entry], tag: &str) -> Option<&'a Entry> {
    let best = |quant: &str| {
        files
            .iter()
            .filter(|e| names_quant(&e.path, quant))
            .min_by_key(|e| (e.path.len(), e.path.clone()))
            .copied()
    };
    if !tag.eq_ignore_ascii_case("latest") {
        return best(tag);
    }
    PREFERRED_QUANTS
        .iter()
        .find_map(|q| best(q))
        .or_else(|| (files.len() == 1).then(|| files[0]))
}

/// Whether `quant` appears in the file name between separators (`-`, `.`
/// or the ends), ignoring case: `Q4_K` does not match `…-Q4_K_M.gguf`.
fn names_quant(path: &str, quant: &str) -> bool {
    let stem = path.to_ascii_uppercase();
    let stem = stem.strip_suffix(".GGUF").unwrap_or(&stem);
    let quant = quant.to_ascii_uppercase();
    if quant.is_empty() {
        return false;
    }
    let is_sep = |c: Option<char>| c.is_none_or(|c| c == '-' || c == '.');
    stem.match_indices(&quant).any(|(i, _)| {
        is_sep(stem[..i].chars().next_back()) && is_sep(stem[i + quant.len()..].chars().next())
    })
}

/// `…-00001-of-00003.gguf`: one shard of a split model.
fn is_split(path: &str) -> bool {
    let stem = path.trim_end_matches(".gguf").trim_end_matches(".GGUF");
    let mut parts = stem.rsplitn(4, '-');
    let (Some(total), Some(of), Some(index)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    of == "of" && digits(total) && digits(index)
}

/// `<endpoint>/<user>/<repo>/resolve/main/<file>`, each part escaped.
fn file_url(reg: &Registry, repo: &str, file: &str) -> Result<Url> {
    let mut url = reg.join("")?;
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| RegistryError::Protocol("bad Hugging Face endpoint".into()))?;
        segments.pop_if_empty();
        segments.extend(repo.split('/'));
        segments.extend(["resolve", "main", file]);
    }
    Ok(url)
}

/// The config of a model made of one GGUF, as `/api/create` writes it.
fn config_of(info: &GgufInfo) -> ConfigV2 {
    let arch = info.architecture().unwrap_or_default().to_string();
    ConfigV2 {
        model_format: "gguf".into(),
        model_families: if arch.is_empty() {
            Vec::new()
        } else {
            vec![arch.clone()]
        },
        model_family: arch,
        model_type: info.parameter_size_string(),
        file_type: info.file_type_name().to_string(),
        context_length: info.context_length().unwrap_or(0),
        embedding_length: info.embedding_length().unwrap_or(0),
        ..ConfigV2::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            kind: "file".into(),
            path: path.into(),
            lfs: None,
        }
    }

    #[test]
    fn hosts() {
        assert!(is_hf_host("hf.co"));
        assert!(is_hf_host("HuggingFace.co"));
        assert!(!is_hf_host("hf.co.evil"));
        assert!(!is_hf_host("registry.ollama.ai"));
        let name = Name::parse("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0").unwrap();
        assert_eq!(name.namespace, "bartowski");
        assert_eq!(name.model, "Llama-3.2-1B-Instruct-GGUF");
        assert_eq!(name.tag, "Q8_0");
    }

    #[test]
    fn quant_words() {
        assert!(names_quant("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "q4_k_m"));
        assert!(names_quant(
            "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
            "Q4_K_M"
        ));
        assert!(names_quant("Qwen3-0.6B-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"));
        assert!(!names_quant("Llama-Q4_K_M.gguf", "Q4_K"));
        assert!(!names_quant("Llama-IQ4_XS.gguf", "Q4_XS"));
        assert!(!names_quant("Llama-Q4_K_M.gguf", ""));
    }

    #[test]
    fn choosing_a_file() {
        let files = [
            entry("M-Q8_0.gguf"),
            entry("M-Q4_K_M.gguf"),
            entry("M-Q4_K_M-imat.gguf"),
            entry("M-f16.gguf"),
        ];
        let refs: Vec<&Entry> = files.iter().collect();
        assert_eq!(choose(&refs, "latest").unwrap().path, "M-Q4_K_M.gguf");
        assert_eq!(choose(&refs, "q8_0").unwrap().path, "M-Q8_0.gguf");
        assert_eq!(choose(&refs, "F16").unwrap().path, "M-f16.gguf");
        assert!(choose(&refs, "Q2_K").is_none());
        let only = [entry("weights.gguf")];
        let refs: Vec<&Entry> = only.iter().collect();
        assert_eq!(choose(&refs, "latest").unwrap().path, "weights.gguf");
        let no_default = [entry("a-Q8_0.gguf"), entry("a-Q6_K.gguf")];
        let refs: Vec<&Entry> = no_default.iter().collect();
        assert_eq!(choose(&refs, "latest").unwrap().path, "a-Q6_K.gguf");
    }

    #[test]
    fn projectors_and_subfolders_are_not_models() {
        assert!(is_model_gguf(&entry("m-Q4_K_M.gguf")));
        assert!(!is_model_gguf(&entry("mmproj-m-f16.gguf")));
        assert!(!is_model_gguf(&entry("sub/m-Q4_K_M.gguf")));
        assert!(!is_model_gguf(&entry("README.md")));
        assert!(is_split("m-Q8_0-00001-of-00002.gguf"));
        assert!(!is_split("m-Q8_0.gguf"));
    }

    #[test]
    fn endpoint_and_file_urls() {
        let opts = Options {
            hf_endpoint: Some("http://127.0.0.1:9/hf".into()),
            ..Options::default()
        };
        let base = endpoint(&opts).unwrap();
        assert_eq!(base.as_str(), "http://127.0.0.1:9/hf/");
        let reg = Registry::at(base, "u/r".into()).unwrap();
        assert_eq!(
            reg.url("manifests/latest").unwrap().as_str(),
            "http://127.0.0.1:9/hf/v2/u/r/manifests/latest"
        );
        assert_eq!(
            file_url(&reg, "u/r", "a b#?.gguf").unwrap().as_str(),
            "http://127.0.0.1:9/hf/u/r/resolve/main/a%20b%23%3F.gguf"
        );
        assert_eq!(
            endpoint(&Options::default()).unwrap().as_str(),
            "https://huggingface.co/"
        );
        let bad = Options {
            hf_endpoint: Some("file:///etc".into()),
            ..Options::default()
        };
        assert!(endpoint(&bad).is_err());
    }
}
