//! Manifest JSON (Docker distribution schema 2 as used by Ollama): the
//! [`Manifest`] and [`Layer`] types and the media-type constants.
//!
//! Parsing is lenient: unknown fields are ignored and `null` lists read as
//! empty, because manifests on disk may come from any Ollama version or
//! registry. Serialisation follows Go's field order so re-encoded manifests
//! look like the ones Ollama writes.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Result, StoreError};
use crate::json_util::{null_as_default, to_go_json};

pub use crate::config::{ConfigV2, Draft};

/// Media types used in manifests.
pub mod media_type {
    /// The manifest itself.
    pub const MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// The config blob (`ConfigV2` JSON).
    pub const CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// GGUF model weights.
    pub const MODEL: &str = "application/vnd.ollama.image.model";
    /// GGUF multimodal projector.
    pub const PROJECTOR: &str = "application/vnd.ollama.image.projector";
    /// GGUF LoRA adapter.
    pub const ADAPTER: &str = "application/vnd.ollama.image.adapter";
    /// GGUF draft model for speculative decoding.
    pub const DRAFT: &str = "application/vnd.ollama.image.draft";
    /// Go prompt template.
    pub const TEMPLATE: &str = "application/vnd.ollama.image.template";
    /// Legacy name of the template layer.
    pub const PROMPT: &str = "application/vnd.ollama.image.prompt";
    /// System prompt text.
    pub const SYSTEM: &str = "application/vnd.ollama.image.system";
    /// JSON object of default options.
    pub const PARAMS: &str = "application/vnd.ollama.image.params";
    /// JSON array of `MESSAGE` history.
    pub const MESSAGES: &str = "application/vnd.ollama.image.messages";
    /// License text (one layer per license).
    pub const LICENSE: &str = "application/vnd.ollama.image.license";
    /// Obsolete embeddings layer, ignored.
    pub const EMBED: &str = "application/vnd.ollama.image.embed";
    /// One safetensors tensor per blob.
    pub const TENSOR: &str = "application/vnd.ollama.image.tensor";
    /// A JSON file of a safetensors model (e.g. `config.json`).
    pub const JSON: &str = "application/vnd.ollama.image.json";
}

/// One entry of a manifest's `layers` (or its `config`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    #[serde(rename = "mediaType", default, deserialize_with = "null_as_default")]
    pub media_type: String,
    /// `sha256:<hex>`, kept as a string so unusual manifests still parse.
    #[serde(default, deserialize_with = "null_as_default")]
    pub digest: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub size: u64,
    /// Source model or file, used for cross-repo mounts on push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// File or tensor name for `image.tensor` / `image.json` layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Layer {
    /// A layer of `media_type` for the blob `digest` of `size` bytes.
    pub fn new(media_type: &str, digest: &Digest, size: u64) -> Layer {
        Layer {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size,
            from: None,
            name: None,
        }
    }

    /// The layer's digest, parsed and validated.
    pub fn parsed_digest(&self) -> Result<Digest> {
        Digest::parse(&self.digest)
    }
}

/// A model manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(rename = "schemaVersion", default = "schema_v2")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, deserialize_with = "null_as_default")]
    pub media_type: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub config: Layer,
    #[serde(default, deserialize_with = "null_as_default")]
    pub layers: Vec<Layer>,
}

fn schema_v2() -> u32 {
    2
}

impl Manifest {
    /// A schema-2 manifest with the given config layer and layers.
    pub fn new(config: Layer, layers: Vec<Layer>) -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: media_type::MANIFEST.to_string(),
            config,
            layers,
        }
    }

    /// Parses manifest bytes leniently (unknown fields are ignored).
    pub fn from_slice(bytes: &[u8]) -> Result<Manifest> {
        let corrupt = |e: serde_json::Error| StoreError::CorruptManifest(e.to_string());
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
        // serde would accept a JSON array as a positional struct; Go (and
        // any registry) only produces objects, so anything else is corrupt.
        if !value.is_object() {
            return Err(StoreError::CorruptManifest(
                "manifest is not a JSON object".to_string(),
            ));
        }
        serde_json::from_value(value).map_err(corrupt)
    }

    /// Encodes like Go's `json.Encoder`: compact JSON plus a trailing newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(to_go_json(self)?)
    }

    /// Sum of all layer sizes plus the config size (what `/api/tags` reports).
    pub fn total_size(&self) -> u64 {
        self.all_layers()
            .map(|l| l.size)
            .fold(0, u64::saturating_add)
    }

    /// The layers followed by the config, skipping an absent config.
    pub fn all_layers(&self) -> impl Iterator<Item = &Layer> {
        let config = Some(&self.config).filter(|c| !c.digest.is_empty());
        self.layers.iter().chain(config)
    }

    /// Every digest the manifest references, parsed. Fails on the first
    /// malformed digest, so nothing built from them can escape `blobs/`.
    pub fn digests(&self) -> Result<Vec<Digest>> {
        self.all_layers().map(Layer::parsed_digest).collect()
    }

    /// The first layer of the given media type.
    pub fn first_layer(&self, media_type: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.media_type == media_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "schemaVersion": 2,
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                 "digest": "sha256:34bb5ab01051a11372a91f95f3fbbc51173eed8e7f13ec395b9ae9b8bd0e242b", "size": 561},
      "layers": [
        {"mediaType": "application/vnd.ollama.image.model",
         "digest": "sha256:dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff",
         "size": 2019377376, "from": "llama3.2", "annotations": {"x": 1}},
        {"mediaType": "application/vnd.ollama.image.template",
         "digest": "sha256:966de95ca8a62200913e3f8bfbf84c8494536f1b94b49166851e76644e966396", "size": 1429}
      ],
      "annotations": {"unknown": true}
    }"#;

    #[test]
    fn parses_leniently() {
        let m = Manifest::from_slice(SAMPLE.as_bytes()).unwrap();
        assert_eq!(m.schema_version, 2);
        assert_eq!(m.layers.len(), 2);
        assert_eq!(m.layers[0].from.as_deref(), Some("llama3.2"));
        assert_eq!(m.total_size(), 561 + 2019377376 + 1429);
        assert_eq!(m.digests().unwrap().len(), 3);
        assert_eq!(m.first_layer(media_type::TEMPLATE).unwrap().size, 1429);
    }

    #[test]
    fn null_layers_and_missing_fields() {
        let m =
            Manifest::from_slice(br#"{"layers":null,"config":{"digest":"","size":null}}"#).unwrap();
        assert!(m.layers.is_empty());
        assert_eq!(m.schema_version, 2);
        assert_eq!(m.all_layers().count(), 0);
        assert_eq!(m.total_size(), 0);
    }

    #[test]
    fn garbage_is_corrupt() {
        for bad in [&b"not json"[..], b"[]", b"{\"layers\": 5}", b""] {
            assert!(matches!(
                Manifest::from_slice(bad),
                Err(StoreError::CorruptManifest(_))
            ));
        }
    }

    #[test]
    fn encodes_in_go_order_with_newline() {
        let d = Digest::of_bytes(b"a");
        let mut model = Layer::new(media_type::MODEL, &d, 1);
        model.from = Some("base".into());
        let m = Manifest::new(Layer::new(media_type::CONFIG, &d, 2), vec![model]);
        let text = String::from_utf8(m.to_bytes().unwrap()).unwrap();
        assert!(text.ends_with("}\n"));
        assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"#));
        assert!(text.contains(r#""size":1,"from":"base"}"#));
        assert!(!text.contains("\"name\""));
        assert_eq!(Manifest::from_slice(text.as_bytes()).unwrap(), m);
    }

    #[test]
    fn bad_layer_digest_is_rejected() {
        let mut m = Manifest::from_slice(SAMPLE.as_bytes()).unwrap();
        m.layers[1].digest = "sha256:../../x".into();
        assert!(matches!(m.digests(), Err(StoreError::InvalidDigest)));
    }
}
