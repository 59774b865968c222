//! Errors of the OpenAI-compatible routes: any [`ApiError`] in OpenAI's
//! envelope (`{"error":{"message","type","param","code"}}`), with the
//! native status kept, and a JSON body extractor that fails that way too.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hearth_api::openai::{ErrorBody, ErrorResponse};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::generation::json_response;

/// An error on its way to an OpenAI client.
#[derive(Debug)]
pub struct OpenAiError {
    pub error: ApiError,
    /// The request field at fault, when one is.
    pub param: Option<&'static str>,
}

impl OpenAiError {
    /// A 400 naming the field at fault.
    pub fn bad_param(param: &'static str, message: impl Into<String>) -> Self {
        Self {
            error: ApiError::bad_request(message),
            param: Some(param),
        }
    }
}

impl From<ApiError> for OpenAiError {
    fn from(error: ApiError) -> Self {
        Self { error, param: None }
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let body = envelope(&self.error, self.param);
        json_response(
            self.error.status,
            &serde_json::to_value(body).expect("serializes"),
        )
    }
}

/// The envelope for `error`, also sent as a `data:` event when a stream
/// fails after it started (the SDKs raise on a data object with `error`).
pub fn envelope(error: &ApiError, param: Option<&str>) -> ErrorResponse {
    ErrorResponse {
        error: ErrorBody {
            message: error.message.clone(),
            kind: kind(error.status).to_string(),
            param: param.map(str::to_string),
            code: None,
        },
    }
}

/// OpenAI's error `type` for a status, as Ollama maps it.
fn kind(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "invalid_request_error",
        StatusCode::NOT_FOUND => "not_found_error",
        _ => "api_error",
    }
}

/// A JSON body decoded like the native routes' (unknown fields ignored,
/// `missing request body`, …) but refused in OpenAI's envelope.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = OpenAiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Json(crate::body::read(req, state).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_openai_types() {
        let e = envelope(&ApiError::model_not_found("x"), None);
        assert_eq!(e.error.kind, "not_found_error");
        assert_eq!(e.error.message, "model 'x' not found");
        let e = envelope(&ApiError::bad_request("bad"), Some("n"));
        assert_eq!(e.error.kind, "invalid_request_error");
        assert_eq!(e.error.param.as_deref(), Some("n"));
        assert_eq!(
            envelope(&ApiError::internal("x"), None).error.kind,
            "api_error"
        );
    }
}
