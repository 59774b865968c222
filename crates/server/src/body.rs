//! JSON request bodies, decoded the way Ollama's clients expect: an empty
//! body is `missing request body`, a truncated one `unexpected EOF`,
//! unknown fields are ignored and `Content-Type` is not checked.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Maximum JSON body size; blobs have their own streaming route.
pub const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// A JSON body decoded with Ollama's error messages.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read(req, state).await.map(JsonBody)
    }
}

/// Reads and decodes a request body; extractors that answer in another
/// API's error envelope wrap this.
pub async fn read<S, T>(req: Request, state: &S) -> Result<T, ApiError>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    decode(&bytes)
}

/// Decodes `bytes` as `T` with Ollama's error texts.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("missing request body"));
    }
    // `null` decodes to the zero value, as Go does.
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(describe(&e)))?;
    let value = if value.is_null() {
        serde_json::json!({})
    } else {
        value
    };
    serde_json::from_value(value).map_err(|e| ApiError::bad_request(describe(&e)))
}

fn describe(e: &serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected EOF".to_string()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Req {
        #[serde(default)]
        model: String,
    }

    #[test]
    fn empty_body_is_missing() {
        let err = decode::<Req>(b"").unwrap_err();
        assert_eq!(err.message, "missing request body");
    }

    #[test]
    fn truncated_json_is_unexpected_eof() {
        let err = decode::<Req>(br#"{"model": "a"#).unwrap_err();
        assert_eq!(err.message, "unexpected EOF");
    }

    #[test]
    fn unknown_fields_and_null_are_accepted() {
        assert_eq!(decode::<Req>(br#"{"model":"m","x":1}"#).unwrap().model, "m");
        assert_eq!(decode::<Req>(b"null").unwrap().model, "");
    }
}
