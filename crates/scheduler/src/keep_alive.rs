//! How long an idle model stays loaded.

use std::time::Duration;

/// A keep-alive setting: a duration (zero = unload as soon as idle) or
/// forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    Forever,
    For(Duration),
}

impl Default for KeepAlive {
    /// Five minutes, as in Ollama.
    fn default() -> Self {
        KeepAlive::For(Duration::from_secs(300))
    }
}
