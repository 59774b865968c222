//! The messages between the server and a runner child process.
//!
//! One JSON object per line: requests on the runner's stdin, replies on its
//! stdout (its stderr carries logs). Every request but `cancel` carries an
//! `id` that its replies repeat, so several requests can be in flight.

use serde::{Deserialize, Serialize};

use crate::{Completion, EngineError, GenerateRequest, ModelInfo, TokenLogprob};

/// Server → runner.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToRunner {
    Generate {
        id: u64,
        request: GenerateRequest,
    },
    Cancel {
        id: u64,
    },
    Tokenize {
        id: u64,
        text: String,
        add_special: bool,
    },
    Detokenize {
        id: u64,
        tokens: Vec<i32>,
    },
    /// One pooled vector per input; answered by `Embeddings`.
    Embed {
        id: u64,
        inputs: Vec<String>,
        truncate: bool,
    },
}

/// Runner → server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromRunner {
    /// Sent once, after the model loaded.
    Ready {
        info: ModelInfo,
    },
    /// Sent instead of `Ready`; the runner exits after it.
    LoadFailed {
        error: EngineError,
    },
    Token {
        id: u64,
        text: String,
        /// The log probabilities of the tokens behind `text`, when asked.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        logprobs: Vec<TokenLogprob>,
    },
    Done {
        id: u64,
        completion: Completion,
    },
    Failed {
        id: u64,
        error: EngineError,
    },
    Tokens {
        id: u64,
        tokens: Vec<i32>,
    },
    Text {
        id: u64,
        text: String,
    },
    /// The vectors of an `Embed`, in input order. Never NaN or infinite:
    /// JSON cannot carry those, so the runner refuses them instead.
    Embeddings {
        id: u64,
        embeddings: Vec<Vec<f32>>,
        prompt_tokens: u32,
    },
}

impl FromRunner {
    /// The request this reply belongs to, if any.
    pub fn id(&self) -> Option<u64> {
        match self {
            FromRunner::Ready { .. } | FromRunner::LoadFailed { .. } => None,
            FromRunner::Token { id, .. }
            | FromRunner::Done { id, .. }
            | FromRunner::Failed { id, .. }
            | FromRunner::Tokens { id, .. }
            | FromRunner::Text { id, .. }
            | FromRunner::Embeddings { id, .. } => Some(*id),
        }
    }

    /// Whether this reply ends its request.
    pub fn is_final(&self) -> bool {
        !matches!(self, FromRunner::Token { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_tagged_json() {
        let msg = ToRunner::Cancel { id: 7 };
        let line = serde_json::to_string(&msg).unwrap();
        assert_eq!(line, r#"{"type":"cancel","id":7}"#);
        let back: FromRunner =
            serde_json::from_str(r#"{"type":"token","id":3,"text":"hi"}"#).unwrap();
        assert_eq!(back.id(), Some(3));
        assert!(!back.is_final());
    }

    #[test]
    fn embeddings_round_trip_and_end_their_request() {
        let msg = FromRunner::Embeddings {
            id: 4,
            embeddings: vec![vec![0.25, -1.5]],
            prompt_tokens: 3,
        };
        let line = serde_json::to_string(&msg).unwrap();
        let back: FromRunner = serde_json::from_str(&line).unwrap();
        assert_eq!(back.id(), Some(4));
        assert!(back.is_final());
        let FromRunner::Embeddings { embeddings, .. } = back else {
            panic!("{line}");
        };
        assert_eq!(embeddings, vec![vec![0.25, -1.5]]);
    }
}
