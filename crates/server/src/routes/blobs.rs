//! `HEAD|POST /api/blobs/:digest`: content-addressed uploads.
//!
//! The body is hashed while it streams into a temporary file; only a body
//! whose digest matches is promoted into the store, so an interrupted or
//! wrong upload never leaves a blob that looks complete.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hearth_store::Digest;

use crate::error::ApiError;
use crate::AppState;

pub async fn head(
    State(state): State<AppState>,
    Path(digest): Path<String>,
) -> Result<Response, ApiError> {
    let d = Digest::parse(&digest)?;
    if state.store.has_blob(&d) {
        Ok(StatusCode::OK.into_response())
    } else {
        Err(ApiError::not_found(format!("blob \"{digest}\" not found")))
    }
}

pub async fn upload(
    State(state): State<AppState>,
    Path(digest): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let expected = Digest::parse(&digest)?;
    if state.store.has_blob(&expected) {
        // Answered unread: `unread_body` tells the client to reconnect.
        return Ok(StatusCode::OK.into_response());
    }
    let mut writer = state.store.blob_writer()?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("upload interrupted: {e}")))?;
        // Large uploads: keep disk writes off the async workers.
        writer = tokio::task::spawn_blocking(move || writer.write_all(&chunk).map(|_| writer))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??;
    }
    let actual = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    // Ollama compares against the lower-case `sha256:<hex>` spelling.
    if digest != actual.to_string() {
        return Err(ApiError::bad_request(format!(
            "digest mismatch, expected \"{digest}\", got \"{actual}\""
        )));
    }
    Ok(StatusCode::CREATED.into_response())
}
