//! `POST /api/generate`: completion, load and unload.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::duration::KeepAlive;
use hearth_api::GenerateRequest;
use hearth_engine::template::TemplateInput;
use serde_json::{json, Value};

use hearth_engine::thinking::ThinkingParser;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::generation::{self, json_response, Event, Finished, Job};
use crate::request::{self, Common};
use crate::templates::PromptFormat;
use crate::{logprobs, model, stream, time, vision, AppState};

/// A generate request after validation and scheduling.
pub enum Prepared {
    /// Nothing to generate: `"load"` or `"unload"`.
    Done(&'static str),
    /// `_debug_render_only`: the rendered prompt, nothing generated.
    Rendered(String),
    /// A generation ready to start; `raw` replies carry no `context`.
    Run { job: Box<Job>, raw: bool },
}

pub async fn generate(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<GenerateRequest>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let (job, raw) = match prepare(&state, &req, started).await? {
        Prepared::Done(reason) => {
            return Ok(json_response(
                StatusCode::OK,
                &done_only(&req.model, reason),
            ))
        }
        Prepared::Rendered(prompt) => {
            let out = json!({"model": req.model, "created_at": time::created_at(), "response": "",
                             "done": false, "_debug_info": {"rendered_template": prompt}});
            return Ok(json_response(StatusCode::OK, &out));
        }
        Prepared::Run { job, raw } => (*job, raw),
    };
    let name = req.model.clone();
    if !req.is_streaming() {
        let done = generation::collect(job).await?;
        let mut out = final_chunk(&name, &done.text, &done.finished, raw);
        if !done.thinking.is_empty() {
            out["thinking"] = Value::String(done.thinking);
        }
        return Ok(json_response(StatusCode::OK, &out));
    }
    let (tx, response) = stream::ndjson();
    tokio::spawn(generation::stream(job, tx, move |event| {
        line(&name, event, raw)
    }));
    Ok(response)
}

/// One NDJSON line of a streamed generation.
fn line(model: &str, event: &Event, raw: bool) -> Value {
    let chunk = |field: &str, t: &str| {
        let mut v = json!({"model": model, "created_at": time::created_at(), "response": "", "done": false});
        v[field] = Value::String(t.to_string());
        v
    };
    match event {
        Event::Content(t, lp) => with_logprobs(chunk("response", t), lp),
        Event::Thinking(t, lp) => with_logprobs(chunk("thinking", t), lp),
        // Generate offers no tools; calls cannot occur.
        Event::ToolCalls(_) => chunk("response", ""),
        Event::Done(finished) => final_chunk(model, "", finished, raw),
    }
}

/// Validates `req` in Ollama's order, loads (or unloads) its model and
/// renders the prompt into a generation job.
pub async fn prepare(
    state: &AppState,
    req: &GenerateRequest,
    started: Instant,
) -> Result<Prepared, ApiError> {
    request::check_top_logprobs(req.top_logprobs)?;
    if req.model.trim().is_empty() {
        return Err(ApiError::model_not_found(&req.model));
    }
    let found = model::find(state, &req.model)?;
    let keep_alive = request::keep_alive(req.keep_alive.as_ref())?;
    if req.prompt.is_empty() && keep_alive.is_some_and(KeepAlive::is_zero) {
        if let Some(path) = &found.model_path {
            state.scheduler.unload(path);
        }
        return Ok(Prepared::Done("unload"));
    }
    let raw = req.raw;
    if raw && (!req.template.is_empty() || !req.system.is_empty() || !req.context.is_empty()) {
        return Err(ApiError::bad_request(
            "raw mode does not support template, system, or context",
        ));
    }
    let resolved = model::resolve(state, &req.model, req.options.as_ref()).await?;
    let can_think = resolved.can_think();
    let images = vision::decode(req.images.iter(), &resolved)?;
    let common = Common::parse(
        &req.model,
        can_think,
        req.think.as_ref(),
        req.format.as_ref(),
    )?;
    if resolved.facts.embedding {
        return Err(ApiError::bad_request(format!(
            "\"{}\" does not support generate",
            req.model
        )));
    }
    let fim = !req.suffix.is_empty();
    if fim && !hearth_engine::gotemplate::supports_insert(resolved.format.source()) {
        return Err(ApiError::bad_request(format!(
            "{} does not support insert",
            resolved.model.name
        )));
    }
    let lease = state
        .scheduler
        .acquire(&resolved.model_ref, keep_alive.map(request::to_scheduler))
        .await?;
    if req.prompt.is_empty() {
        return Ok(Prepared::Done("load"));
    }
    // One marker per image where Ollama puts its `[img-N]` tags.
    let prompt = hearth_engine::vision::tag_images(&req.prompt, images.len());
    let (text, add_special) = if fim {
        let template = if req.template.is_empty() {
            resolved.format.source()
        } else {
            &req.template
        };
        let prompt = hearth_engine::gotemplate::render_fim(template, &prompt, &req.suffix)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        (prompt, true)
    } else if raw {
        (prompt, true)
    } else {
        render(&resolved, req, &prompt, &common)?
    };
    if req.debug_render_only {
        return Ok(Prepared::Rendered(text));
    }
    if req.shift == Some(false) {
        let tokens = lease.runner().tokenize(&text, add_special).await?.len()
            + req.context.len()
            + images.len() * lease.info().image_tokens as usize;
        if tokens > lease.info().n_ctx as usize {
            return Err(ApiError::bad_request(request::PROMPT_TOO_LONG));
        }
    }
    let mut engine_req =
        request::engine_request(&resolved, lease.info().n_ctx, text, add_special, &common);
    engine_req.logprobs = logprobs::wanted(req.logprobs, req.top_logprobs);
    engine_req.shift = req.shift.unwrap_or_else(|| resolved.shifts_by_default());
    engine_req.images = images;
    engine_req.context = req
        .context
        .iter()
        .map(|&t| t.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
        .collect();
    Ok(Prepared::Run {
        job: Box::new(Job {
            tools: None,
            thinking: common
                .think
                .then(|| ThinkingParser::new(ThinkingParser::prompt_opens(&engine_req.prompt))),
            lease,
            request: engine_req,
            started,
        }),
        raw,
    })
}

/// The prompt for a non-raw request: system, the model's message history
/// (unless `context` continues an earlier exchange) and the user's prompt,
/// rendered with the request's template, the model's, or the built-in one.
fn render(
    resolved: &model::Resolved,
    req: &GenerateRequest,
    prompt: &str,
    common: &Common,
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
            think: common.think,
            think_level: common.think_level.as_deref(),
            think_set: common.think_set,
        },
    )
}

fn done_only(model: &str, reason: &str) -> Value {
    json!({"model": model, "created_at": time::created_at(), "response": "", "done": true, "done_reason": reason})
}

fn final_chunk(model: &str, text: &str, finished: &Finished, raw: bool) -> Value {
    let mut out = json!({"model": model, "created_at": time::created_at(), "response": text, "done": true,
                         "done_reason": finished.completion.done_reason.as_str()});
    out.as_object_mut()
        .expect("object")
        .extend(finished.metrics.clone());
    if !raw {
        out["context"] = json!(finished.completion.context);
    }
    out
}

fn with_logprobs(mut line: Value, logprobs: &[hearth_engine::TokenLogprob]) -> Value {
    crate::logprobs::attach(&mut line, logprobs);
    line
}
