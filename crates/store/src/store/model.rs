//! The loaded view of an installed model that the server works with:
//! config, weight paths, template, system prompt, parameters, messages and
//! licenses, all read from the manifest's layers.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{ModelEntry, Store};
use crate::digest::Digest;
use crate::error::Result;
use crate::manifest::{media_type, ConfigV2, Layer};
use crate::name::Name;

/// Text/JSON layers are small; refuse to read anything larger into memory.
const MAX_TEXT_LAYER: u64 = 64 << 20;

/// Layer media types [`Store::load`] reads.
const LOADED_TYPES: &[&str] = &[
    media_type::MODEL,
    media_type::PROJECTOR,
    media_type::ADAPTER,
    media_type::DRAFT,
    media_type::TEMPLATE,
    media_type::PROMPT,
    media_type::SYSTEM,
    media_type::LICENSE,
    media_type::PARAMS,
    media_type::MESSAGES,
    media_type::EMBED,
];

/// An installed model, ready for `/api/show`, generation and scheduling.
#[derive(Debug, Clone)]
pub struct Model {
    /// The name with its on-disk spelling.
    pub name: Name,
    pub entry: ModelEntry,
    /// The config blob, or the default when it is missing or unreadable.
    pub config: ConfigV2,
    /// Blob of the first `image.model` layer.
    pub model_path: Option<PathBuf>,
    /// Blobs of `image.projector` layers, in manifest order.
    pub projector_paths: Vec<PathBuf>,
    /// Blobs of `image.adapter` layers, in manifest order.
    pub adapter_paths: Vec<PathBuf>,
    /// Blob of the `image.draft` layer, if any.
    pub draft_path: Option<PathBuf>,
    /// Go template text (`image.template`, or legacy `image.prompt`).
    pub template: Option<String>,
    pub system: Option<String>,
    /// Default options from the `image.params` layer.
    pub params: Map<String, Value>,
    /// `MESSAGE` history from the `image.messages` layer.
    pub messages: Vec<Value>,
    /// One entry per `image.license` layer.
    pub licenses: Vec<String>,
    /// `from` of the model layer, or empty.
    pub parent_model: String,
}

impl Store {
    /// Loads `name` (resolved case-insensitively). `Ok(None)` if it is not
    /// installed. A missing text/JSON layer blob is an error, as in Ollama;
    /// weight blobs are only located, not checked.
    pub fn load(&self, name: &Name) -> Result<Option<Model>> {
        let Some(entry) = self.read_manifest(name)? else {
            return Ok(None);
        };
        let mut model = Model {
            name: entry.name.clone(),
            config: self.read_config(&entry.manifest.config),
            entry: entry.clone(),
            model_path: None,
            projector_paths: Vec::new(),
            adapter_paths: Vec::new(),
            draft_path: None,
            template: None,
            system: None,
            params: Map::new(),
            messages: Vec::new(),
            licenses: Vec::new(),
            parent_model: String::new(),
        };
        for layer in &entry.manifest.layers {
            self.apply_layer(&mut model, layer)?;
        }
        Ok(Some(model))
    }

    /// Folds one manifest layer into the model view.
    fn apply_layer(&self, model: &mut Model, layer: &Layer) -> Result<()> {
        if !LOADED_TYPES.contains(&layer.media_type.as_str()) {
            // Tensor/JSON layers of safetensors models and unknown future
            // types are not part of this view.
            return Ok(());
        }
        let digest = layer.parsed_digest()?;
        match layer.media_type.as_str() {
            media_type::MODEL if model.model_path.is_none() => {
                model.model_path = Some(self.blob_path(&digest));
                model.parent_model = layer.from.clone().unwrap_or_default();
            }
            media_type::PROJECTOR => model.projector_paths.push(self.blob_path(&digest)),
            media_type::ADAPTER => model.adapter_paths.push(self.blob_path(&digest)),
            media_type::DRAFT => model.draft_path = Some(self.blob_path(&digest)),
            media_type::TEMPLATE | media_type::PROMPT => {
                model.template = Some(self.read_text(&digest)?)
            }
            media_type::SYSTEM => model.system = Some(self.read_text(&digest)?),
            media_type::LICENSE => model.licenses.push(self.read_text(&digest)?),
            media_type::PARAMS => model.params = self.read_json(&digest)?,
            media_type::MESSAGES => model.messages = self.read_json(&digest)?,
            media_type::EMBED => {
                tracing::info!(name = %model.name, "ignoring obsolete embeddings layer")
            }
            _ => {}
        }
        Ok(())
    }

    /// The config blob, falling back to defaults: a model whose config is
    /// damaged should still list, show and run.
    fn read_config(&self, layer: &Layer) -> ConfigV2 {
        if layer.digest.is_empty() {
            return ConfigV2::default();
        }
        let parsed = layer
            .parsed_digest()
            .and_then(|d| self.read_small_blob(&d, MAX_TEXT_LAYER))
            .and_then(|bytes| Ok(serde_json::from_slice(&bytes)?));
        parsed.unwrap_or_else(|e| {
            tracing::warn!(digest = %layer.digest, error = %e, "unreadable model config; using defaults");
            ConfigV2::default()
        })
    }

    fn read_text(&self, digest: &Digest) -> Result<String> {
        let bytes = self.read_small_blob(digest, MAX_TEXT_LAYER)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, digest: &Digest) -> Result<T> {
        let bytes = self.read_small_blob(digest, MAX_TEXT_LAYER)?;
        Ok(serde_json::from_slice(&bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::error::StoreError;
    use crate::manifest::Manifest;

    #[test]
    fn load_collects_every_layer_kind() {
        let (_dir, store) = temp_store();
        let config = ConfigV2 {
            model_format: "gguf".into(),
            model_family: "llama".into(),
            ..ConfigV2::default()
        };
        let config_layer = layer(&store, media_type::CONFIG, &config.to_bytes().unwrap());
        let mut weights = layer(&store, media_type::MODEL, b"GGUF-weights");
        weights.from = Some("base:latest".into());
        let second_weights = layer(&store, media_type::MODEL, b"second");
        let layers = vec![
            weights.clone(),
            second_weights,
            layer(&store, media_type::PROJECTOR, b"proj"),
            layer(&store, media_type::ADAPTER, b"lora"),
            layer(&store, media_type::TEMPLATE, b"{{ .Prompt }}"),
            layer(&store, media_type::SYSTEM, b"be nice"),
            layer(
                &store,
                media_type::PARAMS,
                br#"{"stop":["<|eot|>"],"temperature":0.6}"#,
            ),
            layer(
                &store,
                media_type::MESSAGES,
                br#"[{"role":"user","content":"hi"}]"#,
            ),
            layer(&store, media_type::LICENSE, b"MIT"),
            layer(&store, media_type::LICENSE, b"Apache"),
            layer(&store, media_type::EMBED, b"old"),
        ];
        store
            .write_manifest(&name("m"), &Manifest::new(config_layer, layers))
            .unwrap();

        let m = store.load(&name("M")).unwrap().unwrap();
        assert_eq!(m.config, config);
        assert_eq!(
            m.model_path,
            Some(store.blob_path(&weights.parsed_digest().unwrap()))
        );
        assert_eq!(m.parent_model, "base:latest");
        assert_eq!(m.projector_paths.len(), 1);
        assert_eq!(m.adapter_paths.len(), 1);
        assert_eq!(m.template.as_deref(), Some("{{ .Prompt }}"));
        assert_eq!(m.system.as_deref(), Some("be nice"));
        assert_eq!(m.params["temperature"], 0.6);
        assert_eq!(m.messages[0]["content"], "hi");
        assert_eq!(m.licenses, ["MIT", "Apache"]);
        assert_eq!(m.name.display_shortest(), "m:latest");
    }

    #[test]
    fn missing_config_blob_uses_defaults() {
        let (_dir, store) = temp_store();
        simple_model(&store, "m", b"w");
        let entry = store.read_manifest(&name("m")).unwrap().unwrap();
        std::fs::remove_file(store.blob_path(&entry.manifest.config.parsed_digest().unwrap()))
            .unwrap();
        let m = store.load(&name("m")).unwrap().unwrap();
        assert_eq!(m.config, ConfigV2::default());
        assert!(m.params.is_empty());
        assert!(m.template.is_none());
        assert_eq!(m.parent_model, "");
    }

    #[test]
    fn missing_text_blob_is_an_error_and_absent_model_is_none() {
        let (_dir, store) = temp_store();
        let t = layer(&store, media_type::TEMPLATE, b"tmpl");
        store
            .write_manifest(
                &name("m"),
                &Manifest::new(Layer::default(), vec![t.clone()]),
            )
            .unwrap();
        std::fs::remove_file(store.blob_path(&t.parsed_digest().unwrap())).unwrap();
        assert!(matches!(
            store.load(&name("m")),
            Err(StoreError::BlobNotFound(_))
        ));
        assert!(store.load(&name("absent")).unwrap().is_none());
    }

    #[test]
    fn bad_params_json_is_an_error() {
        let (_dir, store) = temp_store();
        let p = layer(&store, media_type::PARAMS, b"[1,2]");
        store
            .write_manifest(&name("m"), &Manifest::new(Layer::default(), vec![p]))
            .unwrap();
        assert!(matches!(store.load(&name("m")), Err(StoreError::Json(_))));
    }
}
