//! Errors of `/v1/messages` in Anthropic's envelope
//! (`{"type":"error","error":{"type","message"},"request_id"}`, C-153),
//! with the native status kept, and a JSON body extractor that fails that
//! way too.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hearth_api::anthropic::{ErrorBody, ErrorResponse};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::generation::json_response;
use crate::ids;

/// An error on its way to an Anthropic client.
#[derive(Debug)]
pub struct AnthropicError(pub ApiError);

impl From<ApiError> for AnthropicError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for AnthropicError {
    fn into_response(self) -> Response {
        let mut body = envelope(&self.0);
        body.request_id = Some(ids::new("req_"));
        json_response(
            self.0.status,
            &serde_json::to_value(body).expect("serializes"),
        )
    }
}

/// The envelope for `error` (without a request id, as a stream's `error`
/// event carries it).
pub fn envelope(error: &ApiError) -> ErrorResponse {
    ErrorResponse {
        kind: "error".into(),
        error: body(error),
        request_id: None,
    }
}

pub fn body(error: &ApiError) -> ErrorBody {
    ErrorBody {
        kind: kind(error.status).into(),
        message: error.message.clone(),
    }
}

/// Anthropic's error `type` for a status.
fn kind(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        _ => "api_error",
    }
}

/// A JSON body decoded like the native routes' but refused in Anthropic's
/// envelope.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AnthropicError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Json(crate::body::read(req, state).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_anthropic_types() {
        let e = envelope(&ApiError::model_not_found("x"));
        assert_eq!(e.kind, "error");
        assert_eq!(e.error.kind, "not_found_error");
        assert_eq!(
            body(&ApiError::bad_request("b")).kind,
            "invalid_request_error"
        );
        assert_eq!(
            body(&ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy")).kind,
            "overloaded_error"
        );
        assert_eq!(body(&ApiError::internal("x")).kind, "api_error");
    }
}
