//! `POST /api/embed` and the legacy `POST /api/embeddings` (spec §2.4–2.5).
//!
//! Both load the model first (an empty input only loads it), then ask its
//! runner for one pooled vector per input. `/api/embed` answers
//! L2-normalised float32 vectors, optionally cut to `dimensions`; the
//! legacy endpoint answers one raw vector as float64 and reports every
//! failure after loading as a 500, as Ollama does.

use std::time::Instant;

use axum::extract::State;
use axum::http::{header::CONTENT_TYPE, StatusCode};
use axum::response::{IntoResponse, Response};
use hearth_api::{EmbedRequest, EmbedResponse, EmbeddingRequest, EmbeddingResponse};
use hearth_scheduler::Lease;
use hearth_store::Name;
use serde_json::{Map, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::{model, request, vectors, AppState};

pub async fn embed(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<EmbedRequest>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let keep_alive = req.parse_keep_alive()?;
    if Name::parse(&req.model).is_err() {
        return Err(ApiError::model_not_found(&req.model));
    }
    let inputs = req.inputs()?;
    let lease = load(&state, &req.model, req.options.as_ref(), keep_alive).await?;
    let mut out = EmbedResponse {
        model: req.model.clone(),
        ..EmbedResponse::default()
    };
    if !inputs.is_empty() {
        let (raw, tokens) = lease.runner().embed(inputs, req.should_truncate()).await?;
        out.embeddings = raw
            .into_iter()
            .map(|v| vectors::finish(v, req.dimensions))
            .collect::<Result<_, _>>()?;
        out.total_duration = nanos(started.elapsed());
        out.load_duration = nanos(lease.load_duration());
        out.prompt_eval_count = u64::from(tokens);
    }
    Ok(json_ok(&out))
}

pub async fn embeddings(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<EmbeddingRequest>,
) -> Result<Response, ApiError> {
    let keep_alive = req.parse_keep_alive()?;
    if req.model.trim().is_empty() || Name::parse(&req.model).is_err() {
        return Err(ApiError::bad_request("model is required"));
    }
    let lease = load(&state, &req.model, req.options.as_ref(), keep_alive).await?;
    let mut out = EmbeddingResponse::default();
    if !req.prompt.is_empty() {
        // No `truncate` field here: a long prompt is cut to the context,
        // as /api/embed does by default, rather than refused.
        let (mut raw, _) = lease
            .runner()
            .embed(vec![req.prompt.clone()], true)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        out.embedding = raw
            .pop()
            .unwrap_or_default()
            .into_iter()
            .map(f64::from)
            .collect();
    }
    Ok(json_ok(&out))
}

/// Finds the model (`model "x" not found, try pulling it first`, the
/// scheduler's wording for these endpoints), merges its options and gets it
/// loaded.
pub(crate) async fn load(
    state: &AppState,
    name: &str,
    options: Option<&Map<String, Value>>,
    keep_alive: Option<hearth_api::duration::KeepAlive>,
) -> Result<Lease, ApiError> {
    model::find(state, name).map_err(|e| match e.status {
        StatusCode::NOT_FOUND => {
            ApiError::not_found(format!("model \"{name}\" not found, try pulling it first"))
        }
        _ => e,
    })?;
    let resolved = model::resolve(state, name, options).await?;
    let lease = state
        .scheduler
        .acquire(&resolved.model_ref, keep_alive.map(request::to_scheduler))
        .await?;
    Ok(lease)
}

/// A 200 JSON response. Serialized straight from the typed value, not
/// through `serde_json::Value`, which would widen float32 to float64 and
/// print `0.1` as `0.10000000149011612`.
fn json_ok<T: serde::Serialize>(value: &T) -> Response {
    let body = serde_json::to_vec(value).expect("response types serialize");
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

fn nanos(d: std::time::Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}
