//! `POST /api/chat` (spec §2.3): messages, tools and tool calls.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::generate::{DebugInfo, Logprob};
use super::metrics::Metrics;
use super::serde_util::{is_false, is_zero, lowercase, nullable};
use crate::{ApiError, KeepAlive, OutputFormat, Think};

/// Body of `POST /api/chat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Empty means "just load the model".
    #[serde(default, deserialize_with = "nullable")]
    pub messages: Vec<Message>,
    /// Absent means `true`; see [`ChatRequest::is_streaming`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tools: Vec<Tool>,
    #[serde(default)]
    pub options: Option<Map<String, Value>>,
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
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub top_logprobs: i64,
}

impl ChatRequest {
    /// A request for `model` with `messages`; everything else default.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            model: model.into(),
            messages,
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

/// One chunk of a `/api/chat` response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChatResponse {
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
    /// UTC RFC 3339 with trimmed nanoseconds.
    #[serde(default, deserialize_with = "nullable")]
    pub created_at: String,
    #[serde(default, deserialize_with = "nullable")]
    pub message: Message,
    #[serde(default, deserialize_with = "nullable")]
    pub done: bool,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub done_reason: String,
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
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// A chat message. `role` and `content` are always serialized (`content`
/// even when empty); the rest only when set. Roles are lower-cased on decode.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool` (others pass through).
    #[serde(default, deserialize_with = "lowercase")]
    pub role: String,
    #[serde(default, deserialize_with = "nullable")]
    pub content: String,
    /// Reasoning text (output of thinking models, or prior reasoning).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub thinking: String,
    /// Base64 image (or audio) bytes, without a `data:` prefix.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub images: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// On `tool` messages: the tool that produced this result.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub tool_name: String,
    /// On `tool` messages: the id of the call being answered.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub tool_call_id: String,
}

impl Message {
    /// A message with `role` and `content` only.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
            ..Self::default()
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}

/// A tool call made by the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ToolCall {
    /// `call_` plus 8 lowercase alphanumerics; omitted when empty.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub function: ToolCallFunction,
}

/// The function part of a [`ToolCall`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ToolCallFunction {
    /// Position of the call in the response; always serialized.
    #[serde(default, deserialize_with = "nullable")]
    pub index: usize,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Arguments in the order the model produced them; `{}` when empty.
    #[serde(default, deserialize_with = "nullable")]
    pub arguments: Map<String, Value>,
}

/// A tool the model may call. The JSON-schema `parameters` stay raw JSON
/// (key order preserved) for templates and grammars to use as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Normally `"function"`.
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub function: ToolFunction,
}

/// The function a [`Tool`] describes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolFunction {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    /// JSON schema of the arguments (`{"type":"object","properties":...}`).
    #[serde(default)]
    pub parameters: Value,
}
