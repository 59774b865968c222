//! A generation request and what a finished generation reports.

use serde::{Deserialize, Serialize};

/// Sampling settings, already resolved from defaults, the model's
/// parameters and the request's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// 0 means greedy.
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub typical_p: f32,
    pub repeat_penalty: f32,
    /// 0 disables, -1 means the whole context.
    pub repeat_last_n: i32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    /// `None` draws a random seed.
    pub seed: Option<u32>,
}

impl Default for Sampling {
    /// Ollama's defaults (`api.DefaultOptions`).
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.9,
            min_p: 0.0,
            typical_p: 1.0,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            seed: None,
        }
    }
}

/// One generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// Tokens placed before the prompt (the deprecated `context` field).
    #[serde(default)]
    pub context: Vec<i32>,
    /// Rendered prompt text. Special tokens written in it are parsed.
    pub prompt: String,
    /// Whether the tokenizer adds BOS/EOS as the model wants.
    pub add_special: bool,
    pub sampling: Sampling,
    /// Maximum tokens to generate; `None` = until the context is full.
    pub num_predict: Option<u32>,
    /// Stop strings; never part of the output.
    #[serde(default)]
    pub stop: Vec<String>,
    /// A GBNF grammar that constrains the output.
    #[serde(default)]
    pub grammar: Option<String>,
    /// A JSON schema the output must match (`{}` = any JSON). Turned into
    /// a grammar by the engine.
    #[serde(default)]
    pub json_schema: Option<String>,
    /// Tokens kept from the start of the prompt when it must be truncated
    /// or the context shifted.
    pub num_keep: u32,
    /// Whether a generation that fills its context goes on by dropping the
    /// older half of what follows the first `num_keep` tokens (Ollama's
    /// `shift`, on by default); off, it ends with [`DoneReason::Length`].
    #[serde(default = "yes")]
    pub shift: bool,
    /// `Some(n)`: report each generated token's log probability and the `n`
    /// most likely tokens at its position (see [`crate::logprob`]).
    #[serde(default)]
    pub logprobs: Option<u32>,
    /// Images, one per [`crate::vision::MEDIA_MARKER`] in `prompt`, in
    /// order. Only a model loaded with a projector can take them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<crate::ImageData>,
}

impl GenerateRequest {
    /// A request for `prompt` with default sampling.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            context: Vec::new(),
            prompt: prompt.into(),
            add_special: true,
            sampling: Sampling::default(),
            num_predict: None,
            stop: Vec::new(),
            grammar: None,
            json_schema: None,
            num_keep: 4,
            shift: true,
            logprobs: None,
            images: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DoneReason {
    /// End-of-generation token or a stop string.
    Stop,
    /// `num_predict` reached or the context is full.
    Length,
}

impl DoneReason {
    /// The wire spelling (`stop`, `length`).
    pub fn as_str(self) -> &'static str {
        match self {
            DoneReason::Stop => "stop",
            DoneReason::Length => "length",
        }
    }
}

/// Counters of a finished generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub done_reason: DoneReason,
    /// Prompt tokens, cached ones included.
    pub prompt_eval_count: u32,
    pub prompt_eval_duration_ns: u64,
    /// Generated tokens.
    pub eval_count: u32,
    pub eval_duration_ns: u64,
    /// Prompt and generated tokens, for the `context` field.
    pub context: Vec<i32>,
    /// The stop string that ended the generation, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequence: Option<String>,
    /// Prompt tokens served from the KV cache instead of evaluated.
    #[serde(default)]
    pub prompt_cached: u32,
    /// Whether that cached prefix was resumed from a sliding-window
    /// checkpoint (the cache itself had forgotten its start).
    #[serde(default)]
    pub prompt_restored: bool,
    /// Tokens held in the KV cache when the generation ended, and its size.
    #[serde(default)]
    pub kv_used: u32,
    #[serde(default)]
    pub kv_size: u32,
}
