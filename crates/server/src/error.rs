//! The server's one error type and its one mapping to HTTP: Ollama's
//! `{"error": "..."}` body with Ollama's status codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hearth_engine::EngineError;
use hearth_scheduler::SchedulerError;
use hearth_store::StoreError;

/// An error on its way to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// `model '<name>' not found`, as generate, chat, show and delete say it.
    pub fn model_not_found(name: &str) -> Self {
        Self::not_found(format!("model '{name}' not found"))
    }
}

/// `e` in the envelope of the API that `route` belongs to: Anthropic's for
/// `/v1/messages`, OpenAI's for the other `/v1/` routes, Ollama's elsewhere.
/// Middleware that refuses a request before its handler runs uses this, so
/// each SDK sees the errors it knows how to raise.
pub fn response_for(route: &str, e: ApiError) -> Response {
    if route == "/v1/messages" {
        crate::anthropic::error::AnthropicError(e).into_response()
    } else if route.starts_with("/v1/") {
        crate::openai::error::OpenAiError::from(e).into_response()
    } else {
        e.into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Busy or draining: worth retrying shortly.
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(RETRY_AFTER_SECS),
            );
        }
        response
    }
}

/// `Retry-After` of a 503 (a full queue, a draining server), in seconds.
pub const RETRY_AFTER_SECS: u32 = 1;

impl From<hearth_api::ApiError> for ApiError {
    /// A wire-level validation error keeps the status it was made with.
    fn from(e: hearth_api::ApiError) -> Self {
        let status = e
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(status, e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::InvalidName | StoreError::InvalidDigest => Self::bad_request(e.to_string()),
            StoreError::ModelNotFound(name) => Self::model_not_found(name),
            StoreError::BlobNotFound(_) => Self::not_found(e.to_string()),
            StoreError::NotGguf | StoreError::Gguf(_) => Self::bad_request(e.to_string()),
            _ => Self::internal(e.to_string()),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match &e {
            EngineError::InvalidRequest(_) => Self::bad_request(e.to_string()),
            EngineError::Unsupported(_) => Self::new(StatusCode::NOT_IMPLEMENTED, e.to_string()),
            EngineError::Cancelled => Self::new(
                StatusCode::from_u16(499).expect("valid status"),
                e.to_string(),
            ),
            _ => Self::internal(e.to_string()),
        }
    }
}

impl From<SchedulerError> for ApiError {
    fn from(e: SchedulerError) -> Self {
        match e {
            SchedulerError::Engine(e) => e.into(),
            SchedulerError::Busy => Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            SchedulerError::ShuttingDown => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            // Ollama answers 500 for a model that does not fit.
            SchedulerError::InsufficientMemory { .. } => Self::internal(e.to_string()),
        }
    }
}
