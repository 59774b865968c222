//! `POST /v1/embeddings`: the native embedding path in OpenAI's shape —
//! `input` as a string or list of strings, `encoding_format` `float` or
//! `base64` (little-endian float32, as OpenAI encodes it), `dimensions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{Json, OpenAiError};
use crate::error::ApiError;
use crate::generation::json_response;
use crate::{vectors, AppState};

/// The request fields Hearth reads (`user` and others are ignored).
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    #[serde(default)]
    model: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    encoding_format: Option<String>,
    #[serde(default)]
    dimensions: Option<i64>,
}

pub async fn embeddings(
    State(state): State<AppState>,
    Json(req): Json<EmbeddingsRequest>,
) -> Result<Response, OpenAiError> {
    let inputs = inputs(&req.input)?;
    let base64 = match req.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(OpenAiError::bad_param(
                "encoding_format",
                format!("Invalid value for 'encoding_format' = {other}. Supported values: ['float', 'base64']."),
            ))
        }
    };
    let lease = crate::routes::embed::load(&state, &req.model, None, None).await?;
    let (raw, tokens) = lease
        .runner()
        .embed(inputs, true)
        .await
        .map_err(ApiError::from)?;
    let mut data = Vec::with_capacity(raw.len());
    for (index, v) in raw.into_iter().enumerate() {
        let v = vectors::finish(v, req.dimensions.unwrap_or(0))?;
        let embedding = if base64 {
            Value::String(encode_base64(&v))
        } else {
            json!(v)
        };
        data.push(json!({"object": "embedding", "embedding": embedding, "index": index}));
    }
    let body = json!({
        "object": "list",
        "data": data,
        "model": req.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// A string or a non-empty list of strings, else `invalid input`.
fn inputs(input: &Value) -> Result<Vec<String>, OpenAiError> {
    let invalid = || OpenAiError::bad_param("input", "invalid input");
    match input {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(invalid))
            .collect(),
        _ => Err(invalid()),
    }
}

/// Standard base64 (with padding) of the vector's little-endian float32 bytes.
fn encode_base64(v: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_floats() {
        // 1.0f32 = 00 00 80 3f little-endian.
        assert_eq!(encode_base64(&[1.0]), "AACAPw==");
        assert_eq!(encode_base64(&[]), "");
    }

    #[test]
    fn inputs_must_be_text() {
        assert_eq!(inputs(&json!("a")).unwrap(), vec!["a"]);
        assert!(inputs(&json!([])).is_err());
        assert!(inputs(&json!([1, 2])).is_err());
    }
}
