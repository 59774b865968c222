//! Pieces shared by the chat, completion and responses types: token usage,
//! stream options, finish reasons and the fingerprint Ollama reports.

use serde::{Deserialize, Serialize};

/// `system_fingerprint` of every response, as Ollama writes it (clients
/// that log it expect a constant).
pub const SYSTEM_FINGERPRINT: &str = "fp_ollama";

/// Token counts of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

impl Usage {
    /// Usage from prompt and completion counts; the total is their sum.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }
    }
}

/// `stream_options` of a streamed request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send one more chunk with `choices: []` and the usage before `[DONE]`.
    #[serde(default)]
    pub include_usage: bool,
}

/// Why a choice ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// End of turn or a stop sequence.
    Stop,
    /// The token budget (`max_tokens`) or the context ran out.
    Length,
    /// The model called tools.
    ToolCalls,
}
