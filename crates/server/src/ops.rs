//! Operational endpoints: `GET /health` (liveness), `GET /ready`
//! (readiness: 503 while pinned models load or while draining) and `GET /metrics` (Prometheus).

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::lifecycle::Readiness;
use crate::AppState;

/// Content type of the Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The three routes, to merge into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health).head(health))
        .route("/ready", get(ready).head(ready))
        .route("/metrics", get(metrics))
}

/// The process is up and its event loop answers.
async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// The server takes new work: 200 `ready`, else 503 `loading` or
/// `draining`.
async fn ready(State(state): State<AppState>) -> Response {
    let readiness = state.lifecycle.readiness();
    let status = if readiness == Readiness::Ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({"status": readiness.as_str()}))).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let text = crate::metrics::global().render(
        &state.scheduler.running(),
        state.scheduler.load(),
        state.lifecycle.is_ready(),
    );
    ([(CONTENT_TYPE, PROMETHEUS_TEXT)], text).into_response()
}
