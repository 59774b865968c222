//! The crate's single error type: a message as Ollama words it, plus the HTTP
//! status it travels with (when there is one).

/// An API error: the text of Ollama's `{"error": "..."}` body and, where
/// known, the HTTP status code it was (or should be) sent with.
///
/// Validation helpers in this crate set the status Ollama uses for the same
/// failure, so a server can answer with `status.unwrap_or(500)`. The client
/// sets it from the response; a mid-stream `{"error":...}` line or a failure
/// to connect has no status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status code, if the error came with (or maps to) one.
    pub status: Option<u16>,
    /// Human-readable message, exactly as it appears in `{"error": ...}`.
    pub message: String,
}

/// Start of the message the client uses when the server cannot be reached;
/// [`ApiError::is_connect_error`] keys on it.
pub(crate) const CONNECT_PREFIX: &str = "could not connect to hearth server at ";

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            message: message.into(),
        }
    }

    /// An error without a status (mid-stream errors, transport failures).
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            status: None,
            message: message.into(),
        }
    }

    /// `400 Bad Request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// `404 Not Found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    /// `500 Internal Server Error`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// The error a client reports when nothing listens at `base_url`.
    pub fn connect(base_url: &str) -> Self {
        Self::message(format!(
            "{CONNECT_PREFIX}{base_url} — is 'hearth serve' running?"
        ))
    }

    /// True when the server could not be reached at all.
    pub fn is_connect_error(&self) -> bool {
        self.status.is_none() && self.message.starts_with(CONNECT_PREFIX)
    }

    /// True for a `404` (unknown model, missing blob, ...).
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    /// The JSON body Ollama sends for this error.
    pub fn to_response(&self) -> crate::ErrorResponse {
        crate::ErrorResponse {
            error: self.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_bare_message() {
        let err = ApiError::not_found("model 'x' not found");
        assert_eq!(err.to_string(), "model 'x' not found");
        assert!(err.is_not_found());
    }

    #[test]
    fn connect_error_is_recognised() {
        let err = ApiError::connect("http://127.0.0.1:11434");
        assert!(err.is_connect_error());
        assert_eq!(
            err.message,
            "could not connect to hearth server at http://127.0.0.1:11434 — is 'hearth serve' running?"
        );
        assert!(!ApiError::bad_request("x").is_connect_error());
    }
}
