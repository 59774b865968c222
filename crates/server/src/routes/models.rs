//! Model management: `/api/tags`, `/api/ps`, `/api/show`, `/api/copy`,
//! `/api/delete`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hearth_api::{CopyRequest, DeleteRequest, ShowRequest};
use hearth_store::gguf::GgufInfo;
use hearth_store::{ConfigV2, Model, Name, StoreError};
use serde_json::{json, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::generation::json_response;
use crate::{show, time, AppState};

/// The latest `/api/tags` body and the fingerprint of the manifests it
/// was built from. Clients (IDE plugins, load balancers, the web UI) poll
/// the list often; while no manifest changed, the answer is the same bytes,
/// served without reading a manifest or leaving the async worker.
#[derive(Default)]
pub struct TagsCache(std::sync::Mutex<Option<(u64, Bytes)>>);

impl TagsCache {
    fn get(&self, fingerprint: u64) -> Option<Bytes> {
        let cached = self.0.lock().expect("tags cache lock");
        cached
            .as_ref()
            .filter(|(f, _)| *f == fingerprint)
            .map(|(_, body)| body.clone())
    }

    fn put(&self, fingerprint: u64, body: Bytes) {
        *self.0.lock().expect("tags cache lock") = Some((fingerprint, body));
    }
}

pub async fn tags(State(state): State<AppState>) -> Result<Response, ApiError> {
    // Taken before the listing: a change made while it is built shows up
    // as a new fingerprint on the next call.
    let fingerprint = state.store.manifests_fingerprint().ok();
    if let Some(body) = fingerprint.and_then(|f| state.tags.get(f)) {
        return Ok(json_bytes(body));
    }
    let (models, complete) = list_models(&state).await?;
    let body = Bytes::from(serde_json::to_vec(&json!({ "models": models })).expect("JSON"));
    if let (Some(f), true) = (fingerprint, complete) {
        state.tags.put(f, body.clone());
    }
    Ok(json_bytes(body))
}

fn json_bytes(body: Bytes) -> Response {
    (
        StatusCode::OK,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Every installed model as `/api/tags` lists it, and whether every one
/// could be described in full (only then is the list worth caching).
async fn list_models(state: &AppState) -> Result<(Vec<Value>, bool), ApiError> {
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.list())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let mut models = Vec::with_capacity(entries.len());
    let mut complete = true;
    for e in entries {
        let Ok(Some(model)) = state.store.load(&e.name) else {
            complete = false;
            continue; // a manifest whose layers are unreadable is not listed
        };
        let name = e.name.display_shortest();
        let mut entry = json!({
            "name": name, "model": name,
            "modified_at": time::local(e.modified),
            "size": e.size, "digest": e.digest,
            "details": details(&model.config, ""),
        });
        match model_capabilities(state, &model).await {
            Some(caps) => entry["capabilities"] = json!(caps),
            None => complete = false,
        }
        models.push(entry);
    }
    Ok((models, complete))
}

/// A model's capabilities from its (cached) GGUF facts and template.
async fn model_capabilities(state: &AppState, model: &Model) -> Option<Vec<String>> {
    let facts = state.facts.get(model.model_path.as_ref()?).await.ok()?;
    let format = crate::templates::choose(model.template.as_deref(), &facts);
    Some(capabilities(model, facts.embedding, format.source()))
}

pub async fn ps(State(state): State<AppState>) -> Result<Response, ApiError> {
    let models: Vec<Value> = state
        .scheduler
        .running()
        .into_iter()
        .map(|r| {
            let config = Name::parse(&r.name)
                .ok()
                .and_then(|n| state.store.load(&n).ok().flatten())
                .map(|m| m.config)
                .unwrap_or_default();
            json!({
                "name": r.name, "model": r.name,
                "size": r.size, "digest": r.digest,
                "details": details(&config, ""),
                "expires_at": time::local(r.expires_at),
                "size_vram": r.info.vram_bytes,
                "context_length": r.info.n_ctx,
                // Hearth's own: the pre-load estimate beside the real size,
                // and the slots (requests generated at once) in use.
                "size_estimate": r.estimate_bytes,
                "num_parallel": r.num_parallel,
                "active_requests": r.active,
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "models": models })))
}

pub async fn show(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ShowRequest>,
) -> Result<Response, ApiError> {
    let name = req.model_name().to_string();
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("model is required"));
    }
    let model = crate::model::find(&state, &name)?;
    let verbose = req.verbose;
    let path = model.model_path.clone();
    let gguf = match path {
        Some(p) => tokio::task::spawn_blocking(move || GgufInfo::read(&p).ok())
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?,
        None => None,
    };
    let body = show::response(
        &state,
        &model,
        gguf.as_ref(),
        verbose,
        Some(req.system.as_str()).filter(|s| !s.is_empty()),
    )
    .await?;
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn copy(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<CopyRequest>,
) -> Result<Response, ApiError> {
    let src = Name::parse(&req.source)
        .map_err(|_| ApiError::bad_request(format!("source \"{}\" is invalid", req.source)))?;
    let dst = Name::parse(&req.destination).map_err(|_| {
        ApiError::bad_request(format!("destination \"{}\" is invalid", req.destination))
    })?;
    let src = state
        .store
        .resolve(&src)?
        .ok_or_else(|| ApiError::not_found(format!("model \"{}\" not found", req.source)))?;
    match state.store.copy(&src, &dst) {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(StoreError::ModelNotFound(_)) => Err(ApiError::not_found(format!(
            "model \"{}\" not found",
            req.source
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<DeleteRequest>,
) -> Result<Response, ApiError> {
    let raw = req.model_name().to_string();
    if raw.trim().is_empty() {
        return Err(ApiError::bad_request("model is required"));
    }
    let name = Name::parse(&raw)
        .map_err(|_| ApiError::bad_request(format!("name \"{raw}\" is invalid")))?;
    let name = state
        .store
        .resolve(&name)?
        .ok_or_else(|| ApiError::model_not_found(&raw))?;
    match state.store.delete(&name) {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(StoreError::ModelNotFound(_)) => Err(ApiError::model_not_found(&raw)),
        Err(e) => Err(e.into()),
    }
}

/// `details` as `/api/tags`, `/api/ps` and `/api/show` report them.
pub fn details(config: &ConfigV2, parent_model: &str) -> Value {
    let format = if config.model_format.is_empty() {
        "gguf"
    } else {
        config.model_format.as_str()
    };
    let families: Value = if config.model_families.is_empty() {
        if config.model_family.is_empty() {
            Value::Null
        } else {
            json!([config.model_family])
        }
    } else {
        json!(config.model_families)
    };
    json!({
        "parent_model": parent_model,
        "format": format,
        "family": config.model_family,
        "families": families,
        "parameter_size": config.model_type,
        "quantization_level": config.file_type,
    })
}

/// Capabilities of a model, from its weights and template.
pub fn capabilities(model: &Model, embedding: bool, template: &str) -> Vec<String> {
    let mut caps = Vec::new();
    if embedding {
        caps.push("embedding".to_string());
    } else {
        caps.push("completion".to_string());
        if template.contains("tools") || template.contains(".Tools") {
            caps.push("tools".to_string());
        }
        if hearth_engine::gotemplate::supports_insert(template) {
            caps.push("insert".to_string());
        }
        if hearth_engine::thinking::template_supports_thinking(template) {
            caps.push("thinking".to_string());
        }
    }
    // A projector layer lets the model see (Ollama: `vision`).
    if !embedding && !model.projector_paths.is_empty() {
        caps.push("vision".to_string());
    }
    for c in &model.config.capabilities {
        if !caps.contains(c) {
            caps.push(c.clone());
        }
    }
    caps
}
