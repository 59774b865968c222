//! Turning HTTP responses and transport failures into [`ApiError`]s.

use crate::error::ApiError;
use crate::ErrorResponse;

/// Map a reqwest failure; refused connections get the "is the server
/// running?" message because that is nearly always the cause.
pub(crate) fn transport_error(err: reqwest::Error, base_url: &str) -> ApiError {
    if err.is_connect() {
        return ApiError::connect(base_url);
    }
    ApiError::message(error_chain(&err))
}

/// `err: cause: cause`, since reqwest's top-level text alone ("error
/// sending request") rarely says what went wrong.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Pass a success through; turn a 4xx/5xx into an error carrying the
/// server's `{"error": ...}` text (or the raw body, or the status line).
pub(crate) async fn check_status(
    response: reqwest::Response,
) -> Result<reqwest::Response, ApiError> {
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    Err(ApiError::new(status.as_u16(), error_message(status, &body)))
}

fn error_message(status: reqwest::StatusCode, body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<ErrorResponse>(body) {
        if !parsed.error.is_empty() {
            return parsed.error;
        }
    }
    let text = String::from_utf8_lossy(body).trim().to_string();
    if !text.is_empty() {
        return text;
    }
    // HEAD responses and bare errors have no body; the status line is all.
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn error_bodies() {
        let msg = |status: u16, body: &str| {
            error_message(StatusCode::from_u16(status).unwrap(), body.as_bytes())
        };
        assert_eq!(
            msg(404, r#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(msg(405, "405 method not allowed"), "405 method not allowed");
        assert_eq!(msg(404, ""), "404 Not Found");
        assert_eq!(msg(500, r#"{"error":""}"#), r#"{"error":""}"#);
    }
}
