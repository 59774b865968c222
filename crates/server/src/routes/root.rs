//! `GET|HEAD /` and `GET|HEAD /api/version`.

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::generation::json_response;

/// The version reported to clients. Clients gate features on Ollama's
/// version numbers, so Hearth reports the Ollama API level it implements.
pub const API_VERSION: &str = "0.32.15";

pub async fn root() -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Ollama is running",
    )
        .into_response()
}

pub async fn version() -> Response {
    json_response(StatusCode::OK, &json!({ "version": API_VERSION }))
}
