//! Model management: `/api/tags`, `/api/ps`, `/api/show`, `/api/copy`,
//! `/api/delete` (spec §2.6–2.10).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::chat::Message;
use super::serde_util::{is_zero, nullable};

/// `details` of a model. The six classic keys are always present (as in
/// Ollama); the two lengths are omitted when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ModelDetails {
    /// The `FROM` source of the model layer (`""` in `/api/ps`).
    #[serde(default, deserialize_with = "nullable")]
    pub parent_model: String,
    /// `gguf` or `safetensors`.
    #[serde(default, deserialize_with = "nullable")]
    pub format: String,
    #[serde(default, deserialize_with = "nullable")]
    pub family: String,
    #[serde(default, deserialize_with = "nullable")]
    pub families: Vec<String>,
    /// E.g. `3.2B`.
    #[serde(default, deserialize_with = "nullable")]
    pub parameter_size: String,
    /// E.g. `Q4_K_M`.
    #[serde(default, deserialize_with = "nullable")]
    pub quantization_level: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub context_length: u64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub embedding_length: u64,
}

/// `GET /api/tags` response; `models` is `[]`, never `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ListResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub models: Vec<ListModel>,
}

/// One local model in [`ListResponse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ListModel {
    /// Shortest display name, e.g. `llama3.2:latest`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Same as `name`.
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub remote_model: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub remote_host: String,
    /// Manifest mtime, local time with offset.
    #[serde(default, deserialize_with = "nullable")]
    pub modified_at: String,
    /// Sum of layer sizes plus the config size.
    #[serde(default, deserialize_with = "nullable")]
    pub size: u64,
    /// Hex SHA-256 of the manifest bytes (64 chars, no `sha256:`).
    #[serde(default, deserialize_with = "nullable")]
    pub digest: String,
    #[serde(default, deserialize_with = "nullable")]
    pub details: ModelDetails,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<String>,
}

/// `GET /api/ps` response; `models` is `[]`, never `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProcessResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub models: Vec<ProcessModel>,
}

/// One loaded model in [`ProcessResponse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProcessModel {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Bytes the runner occupies (weights, KV cache, graph; CPU and GPU).
    #[serde(default, deserialize_with = "nullable")]
    pub size: u64,
    #[serde(default, deserialize_with = "nullable")]
    pub digest: String,
    #[serde(default, deserialize_with = "nullable")]
    pub details: ModelDetails,
    /// When the idle timer fires, local time with offset.
    #[serde(default, deserialize_with = "nullable")]
    pub expires_at: String,
    /// The part of `size` in GPU memory.
    #[serde(default, deserialize_with = "nullable")]
    pub size_vram: u64,
    /// Context actually allocated per request.
    #[serde(default, deserialize_with = "nullable")]
    pub context_length: u64,
}

/// Body of `POST /api/show`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShowRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Overrides the system prompt shown in the output.
    #[serde(default, deserialize_with = "nullable")]
    pub system: String,
    /// Deprecated and ignored.
    #[serde(default, deserialize_with = "nullable")]
    pub template: String,
    /// Return large arrays in `model_info` instead of `[]`.
    #[serde(default, deserialize_with = "nullable")]
    pub verbose: bool,
    /// Merged into the generated Modelfile only.
    #[serde(default)]
    pub options: Option<Map<String, Value>>,
    /// Deprecated spelling of `model`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

impl ShowRequest {
    /// A request for `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }

    /// `model`, or the deprecated `name` when `model` is empty.
    pub fn model_name(&self) -> &str {
        or_deprecated(&self.model, &self.name)
    }
}

/// `POST /api/show` response. Everything but `details`, `model_info` and
/// `modified_at` is omitted when empty; `model_info` is always present
/// (`{}` when unknown) because ollama-python fails without it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ShowResponse {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub license: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub modelfile: String,
    /// One `%-30s %#v` line per option value.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub parameters: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub template: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub system: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub renderer: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub parser: String,
    #[serde(default, deserialize_with = "nullable")]
    pub details: ModelDetails,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub messages: Vec<Message>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub remote_model: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub remote_host: String,
    /// GGUF metadata; always serialized.
    #[serde(default, deserialize_with = "nullable")]
    pub model_info: Map<String, Value>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Map::is_empty"
    )]
    pub projector_info: Map<String, Value>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tensors: Vec<Tensor>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<String>,
    /// Manifest mtime, local time with offset.
    #[serde(default, deserialize_with = "nullable")]
    pub modified_at: String,
    /// Minimum version (Modelfile REQUIRES).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub requires: String,
}

/// A tensor listed by `/api/show`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Tensor {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// GGML type name, e.g. `Q4_K`.
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub shape: Vec<u64>,
}

/// Body of `POST /api/copy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub source: String,
    #[serde(default, deserialize_with = "nullable")]
    pub destination: String,
}

/// Body of `DELETE /api/delete`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Deprecated spelling of `model`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

impl DeleteRequest {
    /// A request for `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }

    /// `model`, or the deprecated `name` when `model` is empty.
    pub fn model_name(&self) -> &str {
        or_deprecated(&self.model, &self.name)
    }
}

/// Go's `cmp.Or(model, name)`: the first non-empty one.
pub(crate) fn or_deprecated<'a>(current: &'a str, deprecated: &'a str) -> &'a str {
    if current.is_empty() {
        deprecated
    } else {
        current
    }
}
