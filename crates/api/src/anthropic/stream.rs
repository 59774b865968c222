//! The events of a streamed `POST /v1/messages` answer, each sent as
//! `event: <type>` plus `data: <json>`.

use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::messages::{MessageResponse, OutputBlock, StopReason};

/// One server-sent event, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// First: the message with empty content and no stop reason.
    MessageStart {
        message: Box<MessageResponse>,
    },
    ContentBlockStart {
        index: u32,
        content_block: OutputBlock,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    /// The stop reason and final counts.
    MessageDelta {
        delta: MessageDelta,
        usage: DeltaUsage,
    },
    /// Last.
    MessageStop,
    Ping,
    /// A failure after the stream started.
    Error {
        error: ErrorBody,
    },
}

impl StreamEvent {
    /// The `type` tag, which is also the SSE `event:` name.
    pub fn kind(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
            StreamEvent::Ping => "ping",
            StreamEvent::Error { .. } => "error",
        }
    }
}

/// What a `content_block_delta` adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    TextDelta {
        text: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    /// A piece of a `tool_use` block's input, as JSON text.
    InputJsonDelta {
        partial_json: String,
    },
}

/// The message-level change of `message_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageDelta {
    pub stop_reason: Option<StopReason>,
    pub stop_sequence: Option<String>,
}

/// Counts in `message_delta`: final output tokens, and the input tokens
/// (known only once the prompt is evaluated, so `message_start` has 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}
