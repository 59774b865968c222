//! `POST /api/chat`: chat turns, load and unload.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::duration::KeepAlive;
use hearth_api::ChatRequest;
use hearth_engine::template::TemplateInput;
use serde_json::{json, Map, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::generation::{self, json_response, Job};
use crate::request::{self, Common};
use crate::{logprobs, model, stream, time, AppState};

pub async fn chat(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ChatRequest>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    if req.model.trim().is_empty() {
        return Err(ApiError::bad_request("model is required"));
    }
    request::check_top_logprobs(req.top_logprobs)?;
    let found = model::find(&state, &req.model)?;
    let keep_alive = request::keep_alive(req.keep_alive.as_ref())?;
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(|m| serde_json::to_value(m).expect("messages serialize"))
        .collect();
    if messages.is_empty() && keep_alive.is_some_and(KeepAlive::is_zero) {
        if let Some(path) = &found.model_path {
            state.scheduler.unload(path);
        }
        return Ok(json_response(
            StatusCode::OK,
            &done_only(&req.model, "unload"),
        ));
    }
    let common = Common::parse(&req.model, req.think.as_ref(), req.format.as_ref())?;
    let resolved = model::resolve(&state, &req.model, req.options.as_ref()).await?;
    if resolved.facts.embedding {
        return Err(ApiError::bad_request(format!(
            "\"{}\" does not support chat",
            req.model
        )));
    }
    let tools_json = serde_json::to_value(&req.tools).expect("tools serialize");
    let tools = (!req.tools.is_empty()).then_some(&tools_json);
    if tools.is_some() && !resolved.format.source().contains("tools") {
        return Err(ApiError::bad_request(format!(
            "{} does not support tools",
            resolved.model.name
        )));
    }
    let lease = state
        .scheduler
        .acquire(&resolved.model_ref, keep_alive.map(request::to_scheduler))
        .await?;
    if messages.is_empty() {
        return Ok(json_response(
            StatusCode::OK,
            &done_only(&req.model, "load"),
        ));
    }

    let history = assemble(&resolved, &messages)?;
    let (prompt, add_special) = request::render_prompt(
        &resolved.format,
        &resolved.facts,
        &TemplateInput {
            messages: &history,
            tools,
            add_generation_prompt: true,
            bos_token: &resolved.facts.bos_token,
            eos_token: &resolved.facts.eos_token,
        },
    )?;
    let mut engine_req =
        request::engine_request(&resolved, lease.info().n_ctx, prompt, add_special, &common);
    engine_req.logprobs = logprobs::wanted(req.logprobs, req.top_logprobs);
    let job = Job {
        lease,
        request: engine_req,
        started,
    };
    let name = req.model.clone();

    if !req.is_streaming() {
        let (text, c, metrics) = generation::collect(job).await?;
        return Ok(json_response(
            StatusCode::OK,
            &final_chunk(&name, &text, c.done_reason.as_str(), metrics),
        ));
    }
    let (tx, response) = stream::ndjson();
    tokio::spawn(async move {
        let chunk_name = name.clone();
        generation::stream(
            job,
            tx,
            move |t| {
                json!({"model": chunk_name, "created_at": time::created_at(),
                       "message": {"role": "assistant", "content": t}, "done": false})
            },
            move |c, metrics| final_chunk(&name, "", c.done_reason.as_str(), metrics),
        )
        .await;
    });
    Ok(response)
}

/// The model's message history, then the request's messages, with the
/// model's SYSTEM first unless the request brings its own. Roles are
/// lower-cased, as Ollama decodes them.
fn assemble(resolved: &model::Resolved, messages: &[Value]) -> Result<Vec<Value>, ApiError> {
    let mut out: Vec<Value> = Vec::new();
    let first_is_system = messages
        .first()
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str)
        .is_some_and(|r| r.eq_ignore_ascii_case("system"));
    if let Some(system) = resolved.model.system.as_deref().filter(|s| !s.is_empty()) {
        if !first_is_system {
            out.push(json!({"role": "system", "content": system}));
        }
    }
    out.extend(resolved.model.messages.iter().cloned());
    for m in messages {
        let mut m: Map<String, Value> = m
            .as_object()
            .cloned()
            .ok_or_else(|| ApiError::bad_request("invalid message"))?;
        let role = m
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        m.insert("role".into(), Value::String(role));
        if !m.get("content").is_some_and(Value::is_string) {
            m.insert("content".into(), Value::String(String::new()));
        }
        out.push(Value::Object(m));
    }
    Ok(out)
}

fn done_only(model: &str, reason: &str) -> Value {
    json!({"model": model, "created_at": time::created_at(),
           "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": reason})
}

fn final_chunk(model: &str, text: &str, reason: &str, metrics: Map<String, Value>) -> Value {
    let mut out = json!({"model": model, "created_at": time::created_at(),
                         "message": {"role": "assistant", "content": text}, "done": true, "done_reason": reason});
    out.as_object_mut().expect("object").extend(metrics);
    out
}
