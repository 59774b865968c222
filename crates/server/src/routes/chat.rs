//! `POST /api/chat`: chat turns, load and unload.
//!
//! [`prepare`] validates a native chat request and gets its model loaded;
//! it is shared with the OpenAI- and Anthropic-compatible routes, which
//! translate their requests into a native [`ChatRequest`] first.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::duration::KeepAlive;
use hearth_api::ChatRequest;
use hearth_engine::template::TemplateInput;
use hearth_engine::thinking::ThinkingParser;
use hearth_engine::tools::{ToolCallParser, ToolFormat};
use serde_json::{json, Map, Value};

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::generation::{self, json_response, Event, Finished, Job};
use crate::request::{self, Common};
use crate::{logprobs, model, stream, time, vision, AppState};

/// A chat request after validation and scheduling.
pub enum Prepared {
    /// Nothing to generate: the model was loaded (`"load"`) or unloaded
    /// (`"unload"`).
    Done(&'static str),
    /// `_debug_render_only`: the rendered prompt, nothing generated.
    Rendered(String),
    /// A generation ready to start.
    Run(Box<Job>),
}

pub async fn chat(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ChatRequest>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let job = match prepare(&state, &req, started).await? {
        Prepared::Done(reason) => {
            return Ok(json_response(
                StatusCode::OK,
                &done_only(&req.model, reason),
            ))
        }
        Prepared::Rendered(prompt) => {
            return Ok(json_response(
                StatusCode::OK,
                &debug_only(&req.model, &prompt),
            ))
        }
        Prepared::Run(job) => *job,
    };
    let name = req.model.clone();
    if !req.is_streaming() {
        let done = generation::collect(job).await?;
        let mut out = final_chunk(&name, &done.text, &done.finished);
        if !done.thinking.is_empty() {
            out["message"]["thinking"] = Value::String(done.thinking);
        }
        // Ollama aggregates tool calls only when the request offered tools.
        if !req.tools.is_empty() && !done.tool_calls.is_empty() {
            out["message"]["tool_calls"] = Value::Array(done.tool_calls);
        }
        return Ok(json_response(StatusCode::OK, &out));
    }
    let (tx, response) = stream::ndjson();
    tokio::spawn(generation::stream(job, tx, move |event| line(&name, event)));
    Ok(response)
}

/// One NDJSON line of a streamed chat.
fn line(model: &str, event: &Event) -> Value {
    let message = |m: Value| json!({"model": model, "created_at": time::created_at(), "message": m, "done": false});
    match event {
        Event::Content(t, lp) => {
            with_logprobs(message(json!({"role": "assistant", "content": t})), lp)
        }
        Event::Thinking(t, lp) => with_logprobs(
            message(json!({"role": "assistant", "content": "", "thinking": t})),
            lp,
        ),
        Event::ToolCalls(calls) => {
            message(json!({"role": "assistant", "content": "", "tool_calls": calls}))
        }
        Event::Done(finished) => final_chunk(model, "", finished),
    }
}

/// Validates `req` in Ollama's order, loads (or unloads) its model, and
/// renders the conversation into a generation job.
pub async fn prepare(
    state: &AppState,
    req: &ChatRequest,
    started: Instant,
) -> Result<Prepared, ApiError> {
    if req.model.trim().is_empty() {
        return Err(ApiError::bad_request("model is required"));
    }
    request::check_top_logprobs(req.top_logprobs)?;
    let found = model::find(state, &req.model)?;
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
        return Ok(Prepared::Done("unload"));
    }
    let resolved = model::resolve(state, &req.model, req.options.as_ref()).await?;
    let can_think = resolved.can_think();
    let images = vision::decode(req.messages.iter().flat_map(|m| m.images.iter()), &resolved)?;
    let common = Common::parse(
        &req.model,
        can_think,
        req.think.as_ref(),
        req.format.as_ref(),
    )?;
    if resolved.facts.embedding {
        return Err(ApiError::bad_request(format!(
            "\"{}\" does not support chat",
            req.model
        )));
    }
    let tools_json = serde_json::to_value(&req.tools).expect("tools serialize");
    let tools = (!req.tools.is_empty()).then_some(&tools_json);
    if tools.is_some()
        && !resolved.format.source().contains("Tools")
        && !resolved.format.source().contains("tools")
    {
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
        return Ok(Prepared::Done("load"));
    }
    let mut history = assemble(&resolved, &messages)?;
    vision::tag_messages(&mut history);
    let n_ctx = lease.info().n_ctx as usize;
    let (prompt, add_special) = loop {
        let rendered = request::render_prompt(
            &resolved.format,
            &resolved.facts,
            &TemplateInput {
                messages: &history,
                tools,
                add_generation_prompt: true,
                bos_token: &resolved.facts.bos_token,
                eos_token: &resolved.facts.eos_token,
                think: common.think,
                think_level: common.think_level.as_deref(),
                think_set: common.think_set,
            },
        )?;
        let tokens = lease
            .runner()
            .tokenize(&rendered.0, rendered.1)
            .await?
            .len()
            + vision::positions(&history, lease.info().image_tokens);
        if tokens <= n_ctx {
            break rendered;
        }
        if req.truncate.unwrap_or(true) && drop_oldest(&mut history) {
            continue;
        }
        if !req.shift.unwrap_or(true) {
            return Err(ApiError::bad_request(request::PROMPT_TOO_LONG));
        }
        // Still too long: the runner keeps the start and the newest tokens.
        break rendered;
    };
    if req.debug_render_only {
        return Ok(Prepared::Rendered(prompt));
    }
    let mut engine_req =
        request::engine_request(&resolved, lease.info().n_ctx, prompt, add_special, &common);
    engine_req.logprobs = logprobs::wanted(req.logprobs, req.top_logprobs);
    engine_req.shift = req.shift.unwrap_or_else(|| resolved.shifts_by_default());
    engine_req.images = vision::surviving(&history, images);
    let thinking = common
        .think
        .then(|| ThinkingParser::new(ThinkingParser::prompt_opens(&engine_req.prompt)));
    let tools = tools.map(|_| {
        let names = req.tools.iter().map(|t| t.function.name.clone()).collect();
        // With a `format` the grammar makes the answer JSON from its first
        // token, so a call can only come as bare JSON, whatever tag the
        // template teaches.
        let format = if req.format.as_ref().is_some_and(|f| !f.is_null() && f != "") {
            ToolFormat::bare_json()
        } else {
            ToolFormat::detect(resolved.format.source())
        };
        ToolCallParser::new(format, names)
    });
    Ok(Prepared::Run(Box::new(Job {
        tools,
        thinking,
        lease,
        request: engine_req,
        started,
    })))
}

/// Drops the oldest message that is neither a system message nor the last
/// one, as Ollama truncates chat history. Returns whether one was dropped.
fn drop_oldest(history: &mut Vec<Value>) -> bool {
    let last = history.len().saturating_sub(1);
    let victim = history
        .iter()
        .take(last)
        .position(|m| m.get("role").and_then(Value::as_str) != Some("system"));
    match victim {
        Some(i) => {
            history.remove(i);
            true
        }
        None => false,
    }
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

fn debug_only(model: &str, prompt: &str) -> Value {
    json!({"model": model, "created_at": time::created_at(),
           "message": {"role": "assistant", "content": ""}, "done": false,
           "_debug_info": {"rendered_template": prompt}})
}

fn done_only(model: &str, reason: &str) -> Value {
    json!({"model": model, "created_at": time::created_at(),
           "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": reason})
}

fn final_chunk(model: &str, text: &str, finished: &Finished) -> Value {
    let mut out = json!({"model": model, "created_at": time::created_at(),
                         "message": {"role": "assistant", "content": text}, "done": true,
                         "done_reason": finished.completion.done_reason.as_str()});
    out.as_object_mut()
        .expect("object")
        .extend(finished.metrics.clone());
    out
}

fn with_logprobs(mut line: Value, logprobs: &[hearth_engine::TokenLogprob]) -> Value {
    crate::logprobs::attach(&mut line, logprobs);
    line
}
