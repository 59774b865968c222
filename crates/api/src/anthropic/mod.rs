//! Serde types of Anthropic's Messages API (`POST /v1/messages`, spec
//! §2B.7), so tools built on Anthropic's SDKs can use local models.
//!
//! Input content blocks are typed (an unknown block type is a 400 at
//! decode time); `system`, `tool_choice` and `thinking` stay JSON values.

mod error;
mod messages;
mod stream;

pub use error::{ErrorBody, ErrorResponse};
pub use messages::{
    ImageSource, InputBlock, InputContent, InputMessage, MessageResponse, MessageUsage,
    MessagesRequest, OutputBlock, StopReason, ToolDefinition,
};
pub use stream::{BlockDelta, DeltaUsage, MessageDelta, StreamEvent};

#[cfg(test)]
mod tests;
