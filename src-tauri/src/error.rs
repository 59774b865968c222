//! The desktop app's one error type. Commands turn it into a plain message
//! for the webview; nothing here carries key material.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DesktopError {
    #[error("cannot find the hearth executable (looked at {0})")]
    HearthNotFound(String),
    #[error("cannot start the Hearth server: {0}")]
    Spawn(std::io::Error),
    #[error("the Hearth server is not running")]
    NotRunning,
    #[error("HTTP request to the server failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("keyring: {0}")]
    Keyring(#[from] keyring_core::Error),
    #[error("`hearth keys add` failed: {0}")]
    KeyTool(String),
    #[error("invalid key name {0:?}: use letters, digits, '-', '_' or '.' (at most 64)")]
    KeyName(String),
    #[error("{0}")]
    Update(String),
    #[error("autostart: {0}")]
    Autostart(String),
    #[error("internal state lock poisoned")]
    Poisoned,
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Tauri(#[from] tauri::Error),
}

impl serde::Serialize for DesktopError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

pub type Result<T, E = DesktopError> = std::result::Result<T, E>;
