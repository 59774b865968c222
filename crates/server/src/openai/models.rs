//! `GET /v1/models` and `GET /v1/models/{model}`: local models as OpenAI
//! model objects (C-151).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::openai::{Model, ModelList};
use hearth_store::Name;

use super::error::OpenAiError;
use crate::error::ApiError;
use crate::generation::json_response;
use crate::AppState;

pub async fn list(State(state): State<AppState>) -> Result<Response, OpenAiError> {
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.list())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::from)?;
    let data = entries
        .iter()
        .map(|e| model(e.name.display_shortest(), &e.name, e.modified))
        .collect();
    let list = ModelList {
        object: "list".into(),
        data,
    };
    Ok(json_response(
        StatusCode::OK,
        &serde_json::to_value(list).expect("serializes"),
    ))
}

/// The model named by the path, with `id` exactly as requested.
pub async fn retrieve(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, OpenAiError> {
    let found = crate::model::find(&state, &name)?;
    let body = model(name, &found.name, found.entry.modified);
    Ok(json_response(
        StatusCode::OK,
        &serde_json::to_value(body).expect("serializes"),
    ))
}

fn model(id: String, name: &Name, modified: SystemTime) -> Model {
    Model {
        id,
        object: "model".into(),
        created: modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        owned_by: name.namespace.clone(),
    }
}
