//! `POST /api/pull` and `POST /api/push`: the registry transfers of
//! `hearth-registry`, streamed as Ollama's progress lines or answered once
//! with `stream:false`.
//!
//! Every registry failure is a 500 with the registry's message, as in
//! Ollama (whose handlers send errors without a status). When a streaming
//! client goes away the transfer is dropped at its next progress line; the
//! partial files it leaves are resumed by the next pull.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hearth_api::{ProgressResponse, PullRequest, PushRequest};
use hearth_registry::{Options, Progress, RegistryError};
use hearth_store::{Name, Store};
use tokio::sync::mpsc;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::{stream, AppState};

/// Which way a transfer goes.
#[derive(Clone, Copy)]
enum Direction {
    Pull,
    Push,
}

pub async fn pull(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<PullRequest>,
) -> Result<Response, ApiError> {
    let name = parse_name(req.model_name())?;
    Ok(start(Direction::Pull, &state, name, &req).await)
}

pub async fn push(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<PushRequest>,
) -> Result<Response, ApiError> {
    if req.model_name().trim().is_empty() {
        return Err(ApiError::bad_request("model is required"));
    }
    let name = parse_name(req.model_name())?;
    Ok(start(Direction::Push, &state, name, &req).await)
}

fn parse_name(raw: &str) -> Result<Name, ApiError> {
    Name::parse(raw).map_err(|_| ApiError::bad_request("invalid model name"))
}

/// Runs the transfer, streamed or not.
async fn start(direction: Direction, state: &AppState, name: Name, req: &PullRequest) -> Response {
    let store = Store::clone(&state.store);
    let config = &state.config;
    let opts = Options {
        insecure: req.insecure,
        hf_endpoint: config.hf_endpoint.clone(),
        part_size: config.download_part_size,
        stall_timeout: config.download_stall,
        no_prune: config.no_prune,
    };
    if !req.is_streaming() {
        return match transfer(direction, &store, &name, &opts, &mut |_| {}).await {
            Ok(()) => Json(ProgressResponse::status("success")).into_response(),
            Err(e) => failure(&e).into_response(),
        };
    }
    let (tx, response) = stream::ndjson();
    tokio::spawn(async move {
        let (ptx, mut prx) = mpsc::unbounded_channel::<Progress>();
        let work = async move {
            let mut report = move |p| {
                let _ = ptx.send(p);
            };
            transfer(direction, &store, &name, &opts, &mut report).await
        };
        tokio::pin!(work);
        let result = loop {
            tokio::select! {
                biased;
                Some(p) = prx.recv() => {
                    if !tx.send(&line(p)).await {
                        // The client is gone: dropping `work` cancels the
                        // transfer and leaves its partial files for resume.
                        return;
                    }
                }
                result = &mut work => break result,
                () = tx.closed() => return,
            }
        };
        while let Ok(p) = prx.try_recv() {
            tx.send(&line(p)).await;
        }
        match result {
            Ok(()) => {
                tx.send(&ProgressResponse::status("success")).await;
            }
            Err(e) => tx.error(&e.to_string()).await,
        }
    });
    response
}

async fn transfer(
    direction: Direction,
    store: &Store,
    name: &Name,
    opts: &Options,
    report: &mut (dyn FnMut(Progress) + Send),
) -> Result<(), RegistryError> {
    let result = match direction {
        Direction::Pull => hearth_registry::pull(store, name, opts, report).await,
        Direction::Push => hearth_registry::push(store, name, opts, report).await,
    };
    if let Err(e) = &result {
        tracing::warn!(model = %name, error = %e, "registry transfer failed");
    }
    result
}

/// The wire line of a progress report.
fn line(p: Progress) -> ProgressResponse {
    let mut out = ProgressResponse::status(p.status());
    if let Progress::Blob {
        digest,
        total,
        completed,
        ..
    } = p
    {
        out.digest = digest.to_string();
        out.total = total;
        out.completed = completed;
    }
    out
}

fn failure(e: &RegistryError) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}
