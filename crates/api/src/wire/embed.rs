//! `/api/embed` and the legacy `/api/embeddings` (spec §2.4–2.5).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::serde_util::{is_zero, nullable};
use crate::{ApiError, KeepAlive};

/// Body of `POST /api/embed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// A string or an array of strings; see [`EmbedRequest::inputs`].
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    /// Absent means `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<bool>,
    /// Cut vectors to this length (ignored when 0 or not smaller).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub dimensions: i64,
    #[serde(default)]
    pub options: Option<Map<String, Value>>,
}

impl EmbedRequest {
    /// The inputs to embed. `null`, `""` and `[]` give none; any other type,
    /// or an array holding a non-string, is `400 invalid input type`.
    pub fn inputs(&self) -> Result<Vec<String>, ApiError> {
        let invalid = || ApiError::bad_request("invalid input type");
        match &self.input {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(invalid))
                .collect(),
            Some(_) => Err(invalid()),
        }
    }

    /// `truncate`, defaulting to `true`.
    pub fn should_truncate(&self) -> bool {
        self.truncate.unwrap_or(true)
    }

    /// The parsed `keep_alive` (`None` when absent or `null`).
    pub fn parse_keep_alive(&self) -> Result<Option<KeepAlive>, ApiError> {
        KeepAlive::from_request(self.keep_alive.as_ref())
    }
}

/// `POST /api/embed` response: L2-normalized float32 vectors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Always present, `[]` included.
    #[serde(default, deserialize_with = "nullable")]
    pub embeddings: Vec<Vec<f32>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub total_duration: u64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub load_duration: u64,
    /// Tokens over all inputs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub prompt_eval_count: u64,
}

/// Body of the legacy `POST /api/embeddings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    #[serde(default, deserialize_with = "nullable")]
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    #[serde(default)]
    pub options: Option<Map<String, Value>>,
}

impl EmbeddingRequest {
    /// The parsed `keep_alive` (`None` when absent or `null`).
    pub fn parse_keep_alive(&self) -> Result<Option<KeepAlive>, ApiError> {
        KeepAlive::from_request(self.keep_alive.as_ref())
    }
}

/// Legacy `/api/embeddings` response: one unnormalized float64 vector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub embedding: Vec<f64>,
}
