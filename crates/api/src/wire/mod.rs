//! Serde types of Ollama's native API, field for field.
//!
//! Conventions, all taken from Ollama's Go types:
//! * keys Go marks `omitempty` are skipped when zero/empty, the others are
//!   always written (so `content: ""` and `model_info: {}` appear);
//! * requests ignore unknown fields and decode `null` as the default;
//! * fields whose JSON type varies (`format`, `think`, `keep_alive`,
//!   `options`, `input`) stay [`serde_json::Value`]s; the `parse_*` helpers
//!   validate them with Ollama's error texts;
//! * timestamps are pre-formatted strings and durations are nanoseconds.

mod chat;
mod create;
mod embed;
mod generate;
mod metrics;
mod misc;
mod models;
pub(crate) mod serde_util;

pub use chat::{
    ChatRequest, ChatResponse, Message, Tool, ToolCall, ToolCallFunction, ToolFunction,
};
pub use create::{CreateRequest, License, ProgressResponse, PullRequest, PushRequest};
pub use embed::{EmbedRequest, EmbedResponse, EmbeddingRequest, EmbeddingResponse};
pub use generate::{DebugInfo, GenerateRequest, GenerateResponse, Logprob, TokenLogprob};
pub use metrics::Metrics;
pub use misc::{CloudStatus, ErrorResponse, StatusResponse, VersionResponse};
pub use models::{
    CopyRequest, DeleteRequest, ListModel, ListResponse, ModelDetails, ProcessModel,
    ProcessResponse, ShowRequest, ShowResponse, Tensor,
};

#[cfg(test)]
mod tests;
