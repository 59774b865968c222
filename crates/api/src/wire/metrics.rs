//! Timing and token counts attached to final generate/chat chunks.

use serde::{Deserialize, Serialize};

use super::serde_util::{is_zero, nullable};

/// Ollama's `api.Metrics`. Durations are integer nanoseconds. Every field
/// is omitted when zero, so non-final stream chunks carry none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Metrics {
    /// Handler start to done.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub total_duration: u64,
    /// Handler start to runner acquired (includes queueing and loading).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub load_duration: u64,
    /// Prompt tokens (cached plus newly evaluated).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub prompt_eval_count: u64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub prompt_eval_duration: u64,
    /// Generated tokens.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub eval_count: u64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub eval_duration: u64,
}

impl Metrics {
    /// True when no metric is set (a non-final chunk).
    pub fn is_empty(&self) -> bool {
        *self == Metrics::default()
    }
}
