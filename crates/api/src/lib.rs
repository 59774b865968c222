//! Hearth's view of the Ollama API: wire types, the validation rules whose
//! error texts clients depend on, and (feature `client`) an HTTP client.
//!
//! * [`wire`] types are re-exported at the crate root (`GenerateRequest`,
//!   `ChatResponse`, ...).
//! * [`duration`] parses Go durations and `keep_alive`; [`options`] holds the
//!   option table and its checks; [`Think`] and [`OutputFormat`] validate the
//!   `think` and `format` fields.
//! * [`host`] parses `HEARTH_HOST` with `OLLAMA_HOST`'s rules; [`env`](mod@env) reads
//!   variables the way Ollama does.
//! * [`openai`] and [`anthropic`] hold the wire types of the compatible
//!   APIs served under `/v1` (chat completions, completions, models,
//!   responses; Anthropic messages).
//! * `client` (feature `client`) talks to a running server.
//!
//! Every fallible function returns [`ApiError`], which carries Ollama's
//! message and the HTTP status Ollama uses for it.

pub mod anthropic;
pub mod duration;
pub mod env;
mod error;
pub mod gostr;
pub mod hearth;
pub mod host;
pub mod openai;
pub mod options;
mod output_format;
mod think;
pub mod wire;

#[cfg(feature = "client")]
pub mod client;

pub use duration::{keep_alive_from_env, KeepAlive};
pub use error::ApiError;
pub use host::Host;
pub use output_format::OutputFormat;
pub use think::{Think, ThinkLevel};
pub use wire::*;

#[cfg(feature = "client")]
pub use client::Client;
