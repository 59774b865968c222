//! `POST /api/generate`: completion, load and unload.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::duration::KeepAlive;
use hearth_api::GenerateRequest;
use hearth_engine::template::TemplateInput;
use serde_json::{json, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::generation::{self, json_response, Job};
use crate::request::{self, Common};
use crate::templates::PromptFormat;
use crate::{logprobs, model, stream, time, AppState};

pub async fn generate(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<GenerateRequest>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    request::check_top_logprobs(req.top_logprobs)?;
    if req.model.trim().is_empty() {
        return Err(ApiError::model_not_found(&req.model));
    }
    let found = model::find(&state, &req.model)?;
    let keep_alive = request::keep_alive(req.keep_alive.as_ref())?;
    if req.prompt.is_empty() && keep_alive.is_some_and(KeepAlive::is_zero) {
        if let Some(path) = &found.model_path {
            state.scheduler.unload(path);
        }
        return Ok(json_response(
            StatusCode::OK,
            &done_only(&req.model, "unload"),
        ));
    }
    let raw = req.raw;
    if raw && (!req.template.is_empty() || !req.system.is_empty() || !req.context.is_empty()) {
        return Err(ApiError::bad_request(
            "raw mode does not support template, system, or context",
        ));
    }
    let common = Common::parse(&req.model, req.think.as_ref(), req.format.as_ref())?;
    let resolved = model::resolve(&state, &req.model, req.options.as_ref()).await?;
    if resolved.facts.embedding {
        return Err(ApiError::bad_request(format!(
            "\"{}\" does not support generate",
            req.model
        )));
    }
    if !req.suffix.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{} does not support insert",
            resolved.model.name
        )));
    }
    let lease = state
        .scheduler
        .acquire(&resolved.model_ref, keep_alive.map(request::to_scheduler))
        .await?;
    let prompt = req.prompt.clone();
    if prompt.is_empty() {
        return Ok(json_response(
            StatusCode::OK,
            &done_only(&req.model, "load"),
        ));
    }

    let (text, add_special) = if raw {
        (prompt, true)
    } else {
        render(&resolved, &req, &prompt)?
    };
    let mut engine_req =
        request::engine_request(&resolved, lease.info().n_ctx, text, add_special, &common);
    engine_req.logprobs = logprobs::wanted(req.logprobs, req.top_logprobs);
    engine_req.context = req
        .context
        .iter()
        .map(|&t| t.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
        .collect();
    let job = Job {
        lease,
        request: engine_req,
        started,
    };
    let name = req.model.clone();

    if !req.is_streaming() {
        let (text, c, metrics) = generation::collect(job).await?;
        let mut out = final_chunk(&name, &text, c.done_reason.as_str(), metrics);
        if !raw {
            out["context"] = json!(c.context);
        }
        return Ok(json_response(StatusCode::OK, &out));
    }
    let (tx, response) = stream::ndjson();
    tokio::spawn(async move {
        let chunk_name = name.clone();
        generation::stream(
            job,
            tx,
            move |t| json!({"model": chunk_name, "created_at": time::created_at(), "response": t, "done": false}),
            move |c, metrics| {
                let mut out = final_chunk(&name, "", c.done_reason.as_str(), metrics);
                if !raw {
                    out["context"] = json!(c.context);
                }
                out
            },
        )
        .await;
    });
    Ok(response)
}

/// The prompt for a non-raw request: system, the model's message history
/// (unless `context` continues an earlier exchange) and the user's prompt,
/// rendered with the request's template, the model's, or the built-in one.
fn render(
    resolved: &model::Resolved,
    req: &GenerateRequest,
    prompt: &str,
) -> Result<(String, bool), ApiError> {
    let mut messages: Vec<Value> = Vec::new();
    let system = if req.system.is_empty() {
        resolved.model.system.clone().unwrap_or_default()
    } else {
        req.system.clone()
    };
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system}));
    }
    if req.context.is_empty() {
        messages.extend(resolved.model.messages.iter().cloned());
    }
    messages.push(json!({"role": "user", "content": prompt}));
    let format = if req.template.is_empty() {
        resolved.format.clone()
    } else {
        PromptFormat::from_source(&req.template)
    };
    request::render_prompt(
        &format,
        &resolved.facts,
        &TemplateInput {
            messages: &messages,
            tools: None,
            add_generation_prompt: true,
            bos_token: &resolved.facts.bos_token,
            eos_token: &resolved.facts.eos_token,
        },
    )
}

fn done_only(model: &str, reason: &str) -> Value {
    json!({"model": model, "created_at": time::created_at(), "response": "", "done": true, "done_reason": reason})
}

fn final_chunk(
    model: &str,
    text: &str,
    reason: &str,
    metrics: serde_json::Map<String, Value>,
) -> Value {
    let mut out = json!({"model": model, "created_at": time::created_at(), "response": text, "done": true, "done_reason": reason});
    out.as_object_mut().expect("object").extend(metrics);
    out
}
