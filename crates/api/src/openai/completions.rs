//! `POST /v1/completions` (spec §2B.2): legacy text completion.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::shared::{FinishReason, StreamOptions, Usage};
use crate::wire::serde_util::nullable;

/// Body of `POST /v1/completions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub model: String,
    /// A string only: token arrays and batches of prompts are refused at
    /// decode time, as Ollama refuses them.
    #[serde(default, deserialize_with = "nullable")]
    pub prompt: String,
    /// Text after the insertion point (fill-in-the-middle).
    #[serde(default, deserialize_with = "nullable")]
    pub suffix: String,
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    /// A string or an array of strings.
    #[serde(default)]
    pub stop: Option<Value>,
    /// Prepend the prompt to the answer.
    #[serde(default, deserialize_with = "nullable")]
    pub echo: bool,
    #[serde(default)]
    pub n: Option<i64>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub user: Option<String>,
}

impl CompletionRequest {
    /// Streaming only when `stream` is `true`.
    pub fn is_streaming(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether a streamed reply ends with a usage chunk.
    pub fn include_usage(&self) -> bool {
        self.stream_options.is_some_and(|o| o.include_usage)
    }
}

/// A completion, or (with `object` unchanged) one chunk of a streamed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextCompletion {
    /// `cmpl-…`.
    pub id: String,
    /// Always `"text_completion"`.
    pub object: String,
    pub created: i64,
    pub model: String,
    pub system_fingerprint: String,
    pub choices: Vec<CompletionChoice>,
    /// Always on a complete answer; on a stream only on the usage chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One choice of a [`TextCompletion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionChoice {
    pub text: String,
    pub index: u32,
    /// Not computed; always `null`.
    pub logprobs: Option<Value>,
    pub finish_reason: Option<FinishReason>,
}
