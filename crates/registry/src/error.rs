//! The crate's single error type, [`RegistryError`].
//!
//! Several `Display` texts are Ollama's own error strings, forwarded
//! verbatim to clients (`insecure protocol http`,
//! `pull model manifest: file does not exist`, `unauthorized: access denied`),
//! so they are part of the wire contract.

use std::io;
use std::sync::Arc;

use hearth_store::StoreError;

/// Everything that can go wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The name asks for `http://` but the request did not allow it.
    #[error("insecure protocol http")]
    InsecureProtocol,

    /// The registry has no manifest for the name (404).
    #[error("pull model manifest: file does not exist")]
    ManifestNotFound,

    /// The registry refused a request even after a token was obtained.
    #[error("unauthorized: access denied")]
    Unauthorized,

    /// The token challenge named a realm on another host; sending anything
    /// there could leak credentials (CVE-2025-51471).
    #[error("token realm {realm} is not on the registry host {host}")]
    ForeignRealm {
        /// The realm URL the registry asked for.
        realm: String,
        /// The registry's host (with port).
        host: String,
    },

    /// A manifest digest is not `sha256:<64 lowercase hex>`.
    #[error("invalid digest format in manifest: {0:?}")]
    InvalidDigest(String),

    /// An unexpected HTTP status (`<context>: <code>: <body>`).
    #[error("{context}: {status}: {body}")]
    Status {
        /// What was being done, e.g. `pull model manifest`.
        context: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },

    /// The registry broke the protocol (oversized body, bad range...).
    #[error("{0}")]
    Protocol(String),

    /// A blob download stopped before its end; retried, then reported.
    #[error("download of {digest} stopped at {got} of {want} bytes")]
    Truncated {
        /// The blob, `sha256:<hex>`.
        digest: String,
        /// Bytes present.
        got: u64,
        /// The blob's size.
        want: u64,
    },

    /// A part of a blob received nothing for this many seconds.
    #[error("download stalled: nothing received for {0} s")]
    Stalled(f64),

    /// The disk filled up during a download; the partial download was
    /// deleted so the store is as it was before the pull.
    #[error(
        "no space left on device while downloading {digest}; the partial download was removed"
    )]
    DiskFull {
        /// The blob, `sha256:<hex>`.
        digest: String,
    },

    /// A Hugging Face repository has no GGUF file for the requested tag.
    #[error("{repo} has no GGUF file for quantization {quant:?} (GGUF files: {available})")]
    HfNoFile {
        /// `<user>/<repo>`.
        repo: String,
        /// The tag asked for (`Q4_K_M` for `latest`).
        quant: String,
        /// The GGUF file names present, comma-separated.
        available: String,
    },

    /// The error of a download shared with another pull.
    #[error(transparent)]
    Shared(Arc<RegistryError>),

    /// Transport failure (connect, TLS, timeout, reset).
    #[error(transparent)]
    Http(#[from] reqwest::Error),

    /// The local store refused or failed (digest mismatch, missing model...).
    #[error(transparent)]
    Store(#[from] StoreError),

    /// Local file I/O.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The crate's result type.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl RegistryError {
    /// Whether trying the same transfer again may succeed: transport
    /// failures, early ends and server-side (5xx) errors.
    pub fn is_transient(&self) -> bool {
        match self {
            RegistryError::Http(e) => !e.is_builder() && !e.is_redirect(),
            RegistryError::Truncated { .. } | RegistryError::Stalled(_) => true,
            RegistryError::Shared(e) => e.is_transient(),
            RegistryError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// Whether the error means the model does not exist (locally for a push,
    /// remotely for a pull).
    pub fn is_not_found(&self) -> bool {
        match self {
            RegistryError::ManifestNotFound => true,
            RegistryError::Store(e) => e.is_not_found(),
            RegistryError::Shared(e) => e.is_not_found(),
            _ => false,
        }
    }

    /// Whether the error is a full disk (or an exhausted quota).
    pub fn is_disk_full(&self) -> bool {
        match self {
            RegistryError::DiskFull { .. } => true,
            RegistryError::Io(e) | RegistryError::Store(StoreError::Io(e)) => {
                crate::download::is_disk_full_io(e)
            }
            RegistryError::Shared(e) => e.is_disk_full(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_messages_are_ollamas() {
        assert_eq!(
            RegistryError::InsecureProtocol.to_string(),
            "insecure protocol http"
        );
        assert_eq!(
            RegistryError::ManifestNotFound.to_string(),
            "pull model manifest: file does not exist"
        );
        assert_eq!(
            RegistryError::Unauthorized.to_string(),
            "unauthorized: access denied"
        );
        let e = RegistryError::Status {
            context: "pull model manifest",
            status: 500,
            body: "boom".into(),
        };
        assert_eq!(e.to_string(), "pull model manifest: 500: boom");
        assert!(e.is_transient());
    }
}
