//! Hearth's llama.cpp engine: the only crate that touches `llama-cpp-2`.
//!
//! [`LlamaEngine`] implements [`hearth_engine::Engine`]: it loads GGUF
//! models, tokenizes, batches concurrent generations over the slots of one
//! context ([`batch`]) with prompt-prefix reuse, samples and streams text,
//! and pools embeddings. It is meant to run inside a runner child process ([`runner`]), so an
//! abort inside llama.cpp takes down only that process.

mod backend;
pub mod batch;
mod checkpoint;
mod context;
mod context_shift;
mod embed;
mod embed_plan;
mod generate;
mod loaded;
mod logprobs;
mod output;
pub mod quantize;
pub mod runner;
mod sampler;
mod utf8;
mod vision;

pub use loaded::LlamaLoaded;

use hearth_engine::{Engine, EngineError, LoadSpec, LoadedModel};

/// The llama.cpp engine. Cheap to create; the backend is initialised once
/// per process on first use.
#[derive(Debug, Default, Clone, Copy)]
pub struct LlamaEngine;

impl Engine for LlamaEngine {
    fn load(&self, spec: &LoadSpec) -> Result<Box<dyn LoadedModel>, EngineError> {
        Ok(Box::new(LlamaLoaded::load(spec)?))
    }
}
