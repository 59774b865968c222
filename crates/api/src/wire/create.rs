//! `/api/create`, `/api/pull`, `/api/push` and their progress stream
//! (spec §2.11–2.13).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::chat::Message;
use super::models::or_deprecated;
use super::serde_util::{is_false, is_zero, nullable};

/// Body of `POST /api/create`.
///
/// File maps are `BTreeMap`s so they serialize sorted, as Go's maps do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRequest {
    /// Name of the model to create.
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// E.g. `q4_K_M`; empty keeps the source quantization.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub quantize: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub draft_quantize: String,
    /// An existing model to build on.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub from: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub remote_host: String,
    /// Relative file name → `sha256:<hex>` of a blob uploaded beforehand.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub files: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub draft_files: BTreeMap<String, String>,
    /// LoRA adapters, file name → digest.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub adapters: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub template: String,
    /// A string or an array of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub system: String,
    /// Stored verbatim; types are checked only at inference time.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Map::is_empty"
    )]
    pub parameters: Map<String, Value>,
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
    pub renderer: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub parser: String,
    /// Minimum server version, e.g. `0.14.0`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub requires: String,
    /// Overrides of detected model facts (`capabilities`, `context_length`, ...).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Map::is_empty"
    )]
    pub info: Map<String, Value>,
    /// Deprecated spelling of `model`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Deprecated spelling of `quantize`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub quantization: String,
    /// Removed in Ollama 0.5.5 but still sent by old clients; a server may
    /// parse it as a Modelfile or reject it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modelfile: Option<String>,
}

impl CreateRequest {
    /// A request creating `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }

    /// Streaming unless `stream` is explicitly `false`.
    pub fn is_streaming(&self) -> bool {
        self.stream.unwrap_or(true)
    }

    /// `model`, or the deprecated `name` when `model` is empty.
    pub fn model_name(&self) -> &str {
        or_deprecated(&self.model, &self.name)
    }

    /// `quantize`, or the deprecated `quantization` when it is empty.
    pub fn quantize_type(&self) -> &str {
        or_deprecated(&self.quantize, &self.quantization)
    }

    /// The licenses as a list (a single empty string counts as none).
    pub fn licenses(&self) -> Vec<String> {
        self.license
            .as_ref()
            .map(License::to_vec)
            .unwrap_or_default()
    }
}

/// `license` of a create request: one text or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum License {
    One(String),
    Many(Vec<String>),
}

impl License {
    /// All license texts; an empty single string is no license, as in Ollama.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            License::One(text) if text.is_empty() => Vec::new(),
            License::One(text) => vec![text.clone()],
            License::Many(texts) => texts.clone(),
        }
    }
}

/// One line of pull/push/create progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProgressResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub status: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub digest: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub total: u64,
    /// Absent while zero.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub completed: u64,
}

impl ProgressResponse {
    /// A status-only line such as `{"status":"success"}`.
    pub fn status(status: impl Into<String>) -> Self {
        Self {
            status: status.into(),
            ..Self::default()
        }
    }
}

/// Body of `POST /api/pull`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Allow plain-HTTP registries.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub insecure: bool,
    /// Accepted and ignored.
    #[serde(default, deserialize_with = "nullable")]
    pub username: String,
    /// Accepted and ignored.
    #[serde(default, deserialize_with = "nullable")]
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Deprecated spelling of `model`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

impl PullRequest {
    /// A request for `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }

    /// Streaming unless `stream` is explicitly `false`.
    pub fn is_streaming(&self) -> bool {
        self.stream.unwrap_or(true)
    }

    /// `model`, or the deprecated `name` when `model` is empty.
    pub fn model_name(&self) -> &str {
        or_deprecated(&self.model, &self.name)
    }
}

/// Body of `POST /api/push`; same shape as [`PullRequest`].
pub type PushRequest = PullRequest;
