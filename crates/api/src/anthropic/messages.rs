//! The request and non-streamed response of `POST /v1/messages`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::serde_util::nullable;

/// Body of `POST /v1/messages`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// Required by Anthropic; the server refuses a request without it.
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub messages: Vec<InputMessage>,
    /// A string or an array of `text` blocks.
    #[serde(default)]
    pub system: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub stop_sequences: Vec<String>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<i64>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub tools: Vec<ToolDefinition>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// `{"type":"enabled","budget_tokens":N}` or `{"type":"disabled"}`.
    #[serde(default)]
    pub thinking: Option<Value>,
    #[serde(default)]
    pub metadata: Option<Value>,
    /// `{"format": {"type": "json_schema", "schema": {...}}}` asks for
    /// structured output.
    #[serde(default)]
    pub output_config: Option<Value>,
}

impl MessagesRequest {
    /// Streaming only when `stream` is `true`.
    pub fn is_streaming(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputMessage {
    /// `user` or `assistant`.
    pub role: String,
    pub content: InputContent,
}

/// A message's content: a string or a list of blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InputContent {
    Text(String),
    Blocks(Vec<InputBlock>),
}

/// A content block of an input message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputBlock {
    Text {
        text: String,
    },
    Image {
        source: ImageSource,
    },
    /// A tool call the assistant made earlier.
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    /// The result of a tool call: a string or a list of blocks.
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Option<Value>,
        #[serde(default)]
        is_error: Option<bool>,
    },
    /// Earlier reasoning of an assistant turn.
    Thinking {
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        #[serde(default)]
        data: Option<String>,
    },
}

/// Where an image comes from: `{"type":"base64","media_type","data"}` or
/// `{"type":"url","url"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageSource {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A tool the model may call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON schema of the input.
    #[serde(default)]
    pub input_schema: Value,
}

/// A non-streamed answer, and the `message` of `message_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageResponse {
    /// `msg_…`.
    pub id: String,
    /// Always `"message"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `"assistant"`.
    pub role: String,
    pub model: String,
    pub content: Vec<OutputBlock>,
    /// `null` only in `message_start`.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that ended the answer, if one did.
    pub stop_sequence: Option<String>,
    pub usage: MessageUsage,
}

/// A content block of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputBlock {
    Text {
        text: String,
    },
    /// The reasoning of a thinking model. `signature` is empty: there is
    /// nothing to verify locally.
    Thinking {
        thinking: String,
        signature: String,
    },
    /// A tool call; `input` is the arguments object.
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
}

/// Why the answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}
