//! The process-wide llama.cpp backend.
//!
//! llama.cpp may be initialised only once per process, so the backend lives
//! in a static. Its logs are routed to `tracing` (target `llama-cpp-2`)
//! rather than printed to stderr.

use std::sync::OnceLock;

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::{send_logs_to_tracing, LogOptions};

static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();

/// The backend, initialised on first use.
pub fn backend() -> &'static LlamaBackend {
    BACKEND.get_or_init(|| {
        send_logs_to_tracing(LogOptions::default().with_logs_enabled(true));
        LlamaBackend::init().expect("llama.cpp backend initialises once per process")
    })
}
