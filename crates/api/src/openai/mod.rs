//! Serde types of the OpenAI-compatible API (`/v1/*`, spec §2B), field for
//! field as OpenAI's SDKs send and read them.
//!
//! Requests keep fields whose JSON type varies (`content`, `stop`, `input`,
//! `tool_choice`) as [`serde_json::Value`]s for the server to validate with
//! OpenAI's (or Ollama's) error texts; unknown fields are ignored. Responses
//! are plain structs: optional keys OpenAI omits are skipped when unset,
//! keys OpenAI always writes (even as `null`) are always written.

mod chat;
mod completions;
mod error;
mod models;
mod responses;
mod shared;

pub use chat::{
    AssistantMessage, ChatChoice, ChatChunkChoice, ChatCompletion, ChatCompletionChunk,
    ChatCompletionRequest, ChatDelta, ChatMessage, ChatToolCall, ChatToolCallFunction,
    ChoiceLogprobs, JsonSchemaFormat, Reasoning, ResponseFormat,
};
pub use completions::{CompletionChoice, CompletionRequest, TextCompletion};
pub use error::{ErrorBody, ErrorResponse};
pub use models::{Model, ModelList};
pub use responses::{
    InputTokensDetails, OutputContent, OutputItem, OutputTokensDetails, ResponseEvent,
    ResponseObject, ResponseStreamEvent, ResponseUsage, ResponsesRequest, SummaryText, TextConfig,
};
pub use shared::{FinishReason, StreamOptions, Usage, SYSTEM_FINGERPRINT};

#[cfg(test)]
mod tests;
