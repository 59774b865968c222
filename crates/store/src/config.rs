//! The model config blob (`ConfigV2`), referenced by a manifest's `config`
//! layer: format, family, parameter size, quantisation and remote/renderer
//! metadata.
//!
//! Field names, order and `omitempty` behaviour follow Ollama's
//! `model.ConfigV2`. Deserialisation accepts missing fields, `null` lists
//! and unknown keys (older configs carry `rootfs`).

use serde::{Deserialize, Serialize};

use crate::json_util::{null_as_default, to_go_json};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Ollama's `model.ConfigV2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigV2 {
    #[serde(deserialize_with = "null_as_default")]
    pub model_format: String,
    #[serde(deserialize_with = "null_as_default")]
    pub model_family: String,
    #[serde(deserialize_with = "null_as_default")]
    pub model_families: Vec<String>,
    /// Shown as `parameter_size` (e.g. `3.2B`).
    #[serde(deserialize_with = "null_as_default")]
    pub model_type: String,
    /// Shown as `quantization_level` (e.g. `Q4_K_M`).
    #[serde(deserialize_with = "null_as_default")]
    pub file_type: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub renderer: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub parser: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub requires: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub remote_host: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub remote_model: String,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub capabilities: Vec<String>,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub context_length: u64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub embedding_length: u64,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub base_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<Draft>,
    #[serde(deserialize_with = "null_as_default")]
    pub architecture: String,
    #[serde(deserialize_with = "null_as_default")]
    pub os: String,
}

impl Default for ConfigV2 {
    /// Empty metadata with the values Ollama always writes for the
    /// "required by spec" fields.
    fn default() -> Self {
        ConfigV2 {
            model_format: String::new(),
            model_family: String::new(),
            model_families: Vec::new(),
            model_type: String::new(),
            file_type: String::new(),
            renderer: String::new(),
            parser: String::new(),
            requires: String::new(),
            remote_host: String::new(),
            remote_model: String::new(),
            capabilities: Vec::new(),
            context_length: 0,
            embedding_length: 0,
            base_name: String::new(),
            draft: None,
            architecture: "amd64".to_string(),
            os: "linux".to_string(),
        }
    }
}

/// An auxiliary draft model stored in the same manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub model_format: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub architecture: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub tensor_prefix: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub config: String,
}

impl ConfigV2 {
    /// Encodes like Go's `json.Encoder`: compact JSON plus a trailing newline.
    pub fn to_bytes(&self) -> serde_json::Result<Vec<u8>> {
        to_go_json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_rootfs_nulls_and_missing_fields() {
        let json = r#"{"model_format":"gguf","model_family":"llama","model_families":null,
            "model_type":"3.2B","file_type":"Q4_K_M","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let c: ConfigV2 = serde_json::from_str(json).unwrap();
        assert_eq!(c.model_family, "llama");
        assert!(c.model_families.is_empty());
        assert_eq!(c.architecture, "amd64");
        assert_eq!(c.os, "linux");
        let empty: ConfigV2 = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, ConfigV2::default());
    }

    #[test]
    fn omits_empty_fields() {
        let c = ConfigV2 {
            model_format: "gguf".into(),
            model_family: "gemma3".into(),
            model_families: vec!["gemma3".into()],
            model_type: "268.10M".into(),
            file_type: "Q4_K_M".into(),
            ..ConfigV2::default()
        };
        let text = String::from_utf8(c.to_bytes().unwrap()).unwrap();
        assert_eq!(
            text,
            "{\"model_format\":\"gguf\",\"model_family\":\"gemma3\",\"model_families\":[\"gemma3\"],\
             \"model_type\":\"268.10M\",\"file_type\":\"Q4_K_M\",\"architecture\":\"amd64\",\"os\":\"linux\"}\n"
        );
    }

    #[test]
    fn keeps_set_optional_fields() {
        let c = ConfigV2 {
            capabilities: vec!["completion".into()],
            context_length: 4096,
            renderer: "qwen3".into(),
            draft: Some(Draft {
                architecture: "llama".into(),
                ..Draft::default()
            }),
            ..ConfigV2::default()
        };
        let v: serde_json::Value = serde_json::from_slice(&c.to_bytes().unwrap()).unwrap();
        assert_eq!(v["capabilities"][0], "completion");
        assert_eq!(v["context_length"], 4096);
        assert_eq!(v["renderer"], "qwen3");
        assert_eq!(v["draft"], serde_json::json!({"architecture": "llama"}));
        assert!(v.get("embedding_length").is_none());
        let back: ConfigV2 = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }
}
