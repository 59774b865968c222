//! `POST /api/generate` (spec §2.2) and the log-probability and debug
//! payloads shared with chat.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::chat::ToolCall;
use super::metrics::Metrics;
use super::serde_util::{is_false, is_zero, nullable};
use crate::{ApiError, KeepAlive, OutputFormat, Think};

/// Body of `POST /api/generate`. Unknown fields are ignored and `null`s
/// decode as defaults; dynamically typed fields stay JSON for the server to
/// validate (see the `parse_*` helpers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Empty means "just load the model".
    #[serde(default, deserialize_with = "nullable")]
    pub prompt: String,
    /// Fill-in-the-middle suffix; needs the `insert` capability.
    #[serde(default, deserialize_with = "nullable")]
    pub suffix: String,
    /// Overrides the model's SYSTEM.
    #[serde(default, deserialize_with = "nullable")]
    pub system: String,
    /// Overrides the model's TEMPLATE.
    #[serde(default, deserialize_with = "nullable")]
    pub template: String,
    /// Deprecated token context from a previous final chunk.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub context: Vec<i64>,
    /// Absent means `true`; see [`GenerateRequest::is_streaming`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub raw: bool,
    /// `"json"` or a JSON-schema object; see [`OutputFormat::from_value`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    /// Number of seconds or Go duration; see [`KeepAlive::from_value`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    /// Base64 images, without a `data:` prefix.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub images: Vec<String>,
    /// Model options; see [`crate::options`].
    #[serde(default)]
    pub options: Option<Map<String, Value>>,
    /// `true`/`false` or a level; see [`Think::from_value`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<bool>,
    #[serde(
        rename = "_debug_render_only",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub debug_render_only: bool,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub logprobs: bool,
    /// 0..=20; the server rejects other values.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub top_logprobs: i64,
}

impl GenerateRequest {
    /// A request for `model` with `prompt`; everything else default.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            prompt: prompt.into(),
            ..Self::default()
        }
    }

    /// Streaming unless `stream` is explicitly `false`.
    pub fn is_streaming(&self) -> bool {
        self.stream.unwrap_or(true)
    }

    /// The parsed `keep_alive` (`None` when absent or `null`).
    pub fn parse_keep_alive(&self) -> Result<Option<KeepAlive>, ApiError> {
        KeepAlive::from_request(self.keep_alive.as_ref())
    }

    /// The parsed `think` (`None` when absent or `null`).
    pub fn parse_think(&self) -> Result<Option<Think>, ApiError> {
        Think::from_request(self.think.as_ref())
    }

    /// The parsed `format` (`None` when absent, `null` or `""`).
    pub fn parse_format(&self) -> Result<Option<OutputFormat>, ApiError> {
        OutputFormat::from_request(self.format.as_ref())
    }
}

/// One chunk of a `/api/generate` response. Field order and omission follow
/// Ollama's `api.GenerateResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateResponse {
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
    /// UTC RFC 3339 with trimmed nanoseconds, e.g. `2023-08-04T19:22:45.499127Z`.
    #[serde(default, deserialize_with = "nullable")]
    pub created_at: String,
    /// Always present, `""` included.
    #[serde(default, deserialize_with = "nullable")]
    pub response: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub thinking: String,
    #[serde(default, deserialize_with = "nullable")]
    pub done: bool,
    /// `stop`, `length`, `load` or `unload`; absent until done.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub done_reason: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub context: Vec<i64>,
    #[serde(flatten)]
    pub metrics: Metrics,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    #[serde(
        rename = "_debug_info",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub debug_info: Option<DebugInfo>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub logprobs: Vec<Logprob>,
}

/// `_debug_info` of a `_debug_render_only` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DebugInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub rendered_template: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub image_count: u64,
}

/// A candidate token and its log probability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TokenLogprob {
    #[serde(default, deserialize_with = "nullable")]
    pub token: String,
    #[serde(default, deserialize_with = "nullable")]
    pub logprob: f64,
    /// The token's raw bytes; omitted for an empty token.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub bytes: Vec<u8>,
}

/// Log probability of one generated token, with the top alternatives when
/// `top_logprobs > 0` was requested.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Logprob {
    #[serde(default, deserialize_with = "nullable")]
    pub token: String,
    #[serde(default, deserialize_with = "nullable")]
    pub logprob: f64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub bytes: Vec<u8>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub top_logprobs: Vec<TokenLogprob>,
}
