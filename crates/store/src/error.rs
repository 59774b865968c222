//! The crate's single error type, [`StoreError`], and its `Result` alias.
//!
//! Several variants have a `Display` text that the server forwards verbatim to
//! Ollama clients (`invalid model name`, `invalid digest format`,
//! `supplied file was not in GGUF format`), so those strings are part of the
//! wire contract and must not change.

use std::io;

/// Everything that can go wrong in the model store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A model name failed the grammar or validity rules of Ollama's names.
    #[error("invalid model name")]
    InvalidName,

    /// A digest was not `sha256:<64 hex>` / `sha256-<64 hex>`.
    #[error("invalid digest format")]
    InvalidDigest,

    /// No manifest exists for the model (the payload is the name as asked).
    #[error("model '{0}' not found")]
    ModelNotFound(String),

    /// A blob a caller or manifest refers to is not in `blobs/`
    /// (the payload is the digest in `sha256:<hex>` form).
    #[error("blob \"{0}\" not found")]
    BlobNotFound(String),

    /// Content did not hash to the digest it was promised under.
    #[error("digest mismatch, file must be downloaded again: want {expected}, got {actual}")]
    DigestMismatch {
        /// The digest that was expected, `sha256:<hex>`.
        expected: String,
        /// The digest the content really has, `sha256:<hex>`.
        actual: String,
    },

    /// The file does not start with the GGUF magic.
    #[error("supplied file was not in GGUF format")]
    NotGguf,

    /// The file claims to be GGUF but is malformed, truncated or unsupported.
    #[error("{0}")]
    Gguf(String),

    /// A manifest file exists but cannot be parsed.
    #[error("corrupt manifest: {0}")]
    CorruptManifest(String),

    /// An operating-system level I/O failure.
    #[error(transparent)]
    Io(#[from] io::Error),

    /// A JSON document (config, params, messages) could not be (de)serialised.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// The crate's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Builds a [`StoreError::Gguf`] from anything printable.
    pub(crate) fn gguf(msg: impl Into<String>) -> Self {
        StoreError::Gguf(msg.into())
    }

    /// Whether this error means "the thing asked for does not exist".
    pub fn is_not_found(&self) -> bool {
        match self {
            StoreError::ModelNotFound(_) | StoreError::BlobNotFound(_) => true,
            StoreError::Io(e) => e.kind() == io::ErrorKind::NotFound,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_messages_are_exact() {
        assert_eq!(StoreError::InvalidName.to_string(), "invalid model name");
        assert_eq!(
            StoreError::InvalidDigest.to_string(),
            "invalid digest format"
        );
        assert_eq!(
            StoreError::NotGguf.to_string(),
            "supplied file was not in GGUF format"
        );
        assert_eq!(
            StoreError::ModelNotFound("m:latest".into()).to_string(),
            "model 'm:latest' not found"
        );
        assert_eq!(
            StoreError::BlobNotFound("sha256:ab".into()).to_string(),
            "blob \"sha256:ab\" not found"
        );
    }

    #[test]
    fn not_found_classification() {
        assert!(StoreError::ModelNotFound("x".into()).is_not_found());
        assert!(StoreError::Io(io::Error::from(io::ErrorKind::NotFound)).is_not_found());
        assert!(!StoreError::InvalidName.is_not_found());
    }
}
