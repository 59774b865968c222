//! The engine's one error type.

use serde::{Deserialize, Serialize};

/// Everything that can go wrong below the server: loading, generating,
/// talking to a runner process.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize, PartialEq, Eq)]
pub enum EngineError {
    /// The model file could not be loaded (bad GGUF, unsupported architecture…).
    #[error("unable to load model: {0}")]
    Load(String),
    /// The request cannot be served as asked (prompt too long, bad grammar…).
    #[error("{0}")]
    InvalidRequest(String),
    /// The model cannot do what was asked (embeddings from a completion
    /// model); Ollama answers this with 501.
    #[error("{0}")]
    Unsupported(String),
    /// Inference failed part-way.
    #[error("generation failed: {0}")]
    Generate(String),
    /// The runner process died or broke the protocol.
    #[error("model runner has unexpectedly stopped, this may be due to resource limitations or an internal error: {0}")]
    RunnerGone(String),
    /// The request was cancelled (the client went away).
    #[error("request canceled")]
    Cancelled,
}
