//! Hearth's engine layer: the trait every inference backend implements and
//! the value types that cross it (load specs, generation requests, token
//! events, errors), plus the pure, backend-independent pieces of generation
//! (stop-string matching, chat-template rendering) and the protocol that
//! carries all of it between the server and a runner child process.
//!
//! No FFI lives here: `hearth-engine-llama` implements [`Engine`] over
//! llama.cpp, and runs inside a runner process spoken to over
//! [`protocol`] by [`runner::RunnerProcess`].

pub mod error;
pub mod gotemplate;
pub mod logprob;
pub mod protocol;
pub mod quantize;
pub mod request;
pub mod runner;
pub mod spec;
pub mod stop;
pub mod template;
pub mod thinking;
pub mod tools;
pub mod vision;

pub use error::EngineError;
pub use logprob::TokenLogprob;
pub use request::{Completion, DoneReason, GenerateRequest, Sampling};
pub use spec::{LoadSpec, ModelInfo};
pub use vision::ImageData;

/// A backend able to load models. One value per process.
pub trait Engine {
    /// Loads the model described by `spec` and prepares a context for it.
    fn load(&self, spec: &LoadSpec) -> Result<Box<dyn LoadedModel>, EngineError>;
}

/// What a generation reports while it runs: a piece of text and the log
/// probabilities of the tokens behind it (empty unless the request asked).
/// Returning `false` from the sink cancels the generation (the client went
/// away).
pub type TokenSink<'a> = dyn FnMut(&str, Vec<TokenLogprob>) -> bool + 'a;

/// A model loaded with a context, ready to generate. Used from one thread.
pub trait LoadedModel: Send {
    /// Facts about the loaded model and its context.
    fn info(&self) -> ModelInfo;

    /// Runs one generation, calling `sink` with each piece of text as soon
    /// as it is safe to emit (complete UTF-8, not part of a stop string),
    /// with the log probabilities of its tokens when asked.
    fn generate(
        &mut self,
        request: &GenerateRequest,
        sink: &mut TokenSink<'_>,
    ) -> Result<Completion, EngineError>;

    /// Embeds each input into one pooled vector, in input order, and
    /// returns the vectors with the number of tokens evaluated. An input
    /// longer than the context is cut to fit when `truncate` is set, else
    /// refused. Models without pooling refuse with
    /// [`EngineError::Unsupported`].
    fn embed(
        &mut self,
        inputs: &[String],
        truncate: bool,
    ) -> Result<(Vec<Vec<f32>>, u32), EngineError>;

    /// Turns text into token ids.
    fn tokenize(&self, text: &str, add_special: bool) -> Result<Vec<i32>, EngineError>;

    /// Turns token ids back into text.
    fn detokenize(&self, tokens: &[i32]) -> Result<String, EngineError>;
}
