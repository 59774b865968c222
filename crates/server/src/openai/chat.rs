//! `POST /v1/chat/completions`: an OpenAI chat request becomes a native
//! [`ChatRequest`], runs through [`routes::chat::prepare`], and its answer
//! is written as one `chat.completion` or as SSE `chat.completion.chunk`s.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::openai::{
    AssistantMessage, ChatChoice, ChatChunkChoice, ChatCompletion, ChatCompletionChunk,
    ChatCompletionRequest, ChatDelta, FinishReason, Usage, SYSTEM_FINGERPRINT,
};
use hearth_api::ChatRequest;

use super::error::{Json, OpenAiError};
use super::request::{self, Sampling};
use super::{choice_logprobs, finish, finish_reason, messages, relay, tool_call, usage, Delta};
use crate::answer::{Answer, Collected};
use crate::error::ApiError;
use crate::generation::json_response;
use crate::routes::chat::{self, Prepared};
use crate::sse::{self, SseSender};
use crate::tool_choice::ToolChoice;
use crate::{ids, AppState};

pub async fn completions(
    State(state): State<AppState>,
    Json(req): Json<ChatCompletionRequest>,
) -> Result<Response, OpenAiError> {
    let started = Instant::now();
    let native = to_native(&req)?;
    let reply = Reply::new(&req.model);
    let job = match chat::prepare(&state, &native, started).await? {
        Prepared::Run(job) => *job,
        // Without messages (refused above) or `_debug_render_only` (never
        // set here) nothing would be generated.
        Prepared::Done(_) | Prepared::Rendered(_) => {
            return Err(ApiError::internal("nothing to generate").into())
        }
    };
    let answer = Answer::start(job, req.is_streaming())?;
    if !req.is_streaming() {
        let body =
            serde_json::to_value(reply.completion(answer.collect().await?)).expect("serializes");
        return Ok(json_response(StatusCode::OK, &body));
    }
    let (tx, response) = sse::channel();
    tokio::spawn(stream(answer, reply, req.include_usage(), tx));
    Ok(response)
}

/// The native request for `req`, refusing what OpenAI would refuse first.
fn to_native(req: &ChatCompletionRequest) -> Result<ChatRequest, OpenAiError> {
    if req.messages.is_empty() {
        // Ollama's (and OpenAI's) exact text, with `param: null` (C-143).
        return Err(ApiError::bad_request("[] is too short - 'messages'").into());
    }
    if req.n.is_some_and(|n| n != 1) {
        return Err(OpenAiError::bad_param(
            "n",
            "n must be 1: Hearth generates one choice per request",
        ));
    }
    let effort = req
        .reasoning_effort
        .as_deref()
        .or(req.reasoning.as_ref().and_then(|r| r.effort.as_deref()));
    let sampling = Sampling {
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens: req.max_completion_tokens.or(req.max_tokens),
        seed: req.seed,
        frequency_penalty: req.frequency_penalty,
        presence_penalty: req.presence_penalty,
        stop: request::stop_lenient(req.stop.as_ref()),
    };
    let choice = ToolChoice::openai_chat(req.tool_choice.as_ref());
    let tools = choice.apply(req.tools.clone());
    let format = match request::format(req.response_format.as_ref())? {
        Some(format) => Some(format),
        None => choice.forced_format(&tools),
    };
    Ok(ChatRequest {
        model: req.model.clone(),
        messages: messages::to_native(&req.messages)?,
        format,
        tools,
        options: Some(sampling.options()),
        think: request::think(effort)?,
        logprobs: req.logprobs.unwrap_or(false),
        top_logprobs: req.top_logprobs.unwrap_or(0),
        stream: Some(false),
        ..ChatRequest::default()
    })
}

/// What every object of one reply shares: id, time and model.
struct Reply {
    id: String,
    created: i64,
    model: String,
}

impl Reply {
    fn new(model: &str) -> Self {
        Self {
            id: ids::new("chatcmpl-"),
            created: ids::unix_now(),
            model: model.to_string(),
        }
    }

    fn completion(&self, answer: Collected) -> ChatCompletion {
        let ending = answer.ending;
        ChatCompletion {
            id: self.id.clone(),
            object: "chat.completion".into(),
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: SYSTEM_FINGERPRINT.into(),
            choices: vec![ChatChoice {
                index: 0,
                message: AssistantMessage {
                    role: "assistant".into(),
                    content: answer.text,
                    reasoning: Some(answer.reasoning).filter(|r| !r.is_empty()),
                    tool_calls: answer
                        .tool_calls
                        .iter()
                        .map(|c| tool_call(c, false))
                        .collect(),
                },
                finish_reason: Some(finish_reason(&ending)),
                logprobs: choice_logprobs(&answer.logprobs),
            }],
            usage: usage(&ending),
        }
    }

    fn chunk(&self, choices: Vec<ChatChunkChoice>, usage: Option<Usage>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: SYSTEM_FINGERPRINT.into(),
            choices,
            usage,
        }
    }

    fn delta(&self, delta: ChatDelta, finish: Option<FinishReason>) -> ChatCompletionChunk {
        self.chunk(
            vec![ChatChunkChoice {
                index: 0,
                delta,
                finish_reason: finish,
                logprobs: None,
            }],
            None,
        )
    }
}

/// Writes the answer as chunks: the role with the first delta, reasoning,
/// text (with its log probabilities) and tool-call deltas, a finish chunk
/// with an empty delta, the usage chunk when asked for, then `[DONE]`.
async fn stream(answer: Answer, reply: Reply, include_usage: bool, tx: SseSender) {
    let mut role_sent = false;
    let chunk = |delta| {
        let (delta, logprobs) = match delta {
            Delta::Text(text, lp) => (text_delta(text, &mut role_sent), choice_logprobs(&lp)),
            Delta::Reasoning(text) => {
                let delta = ChatDelta {
                    reasoning: Some(text),
                    ..role_delta(&mut role_sent)
                };
                (delta, None)
            }
            Delta::ToolCalls(calls) => {
                let delta = ChatDelta {
                    tool_calls: calls.iter().map(|c| tool_call(c, true)).collect(),
                    ..role_delta(&mut role_sent)
                };
                (delta, None)
            }
        };
        let mut chunk = reply.delta(delta, None);
        chunk.choices[0].logprobs = logprobs;
        Some(chunk)
    };
    let Some(ending) = relay(answer, &tx, chunk).await else {
        return;
    };
    let mut tail = Vec::new();
    if !role_sent {
        tail.push(reply.delta(text_delta(String::new(), &mut role_sent), None));
    }
    tail.push(reply.delta(ChatDelta::default(), Some(finish_reason(&ending))));
    if include_usage {
        tail.push(reply.chunk(Vec::new(), Some(usage(&ending))));
    }
    finish(&tx, &tail).await;
}

/// A text delta; the first delta of a stream also carries the role.
fn text_delta(text: String, role_sent: &mut bool) -> ChatDelta {
    ChatDelta {
        content: Some(text),
        ..role_delta(role_sent)
    }
}

/// An empty delta, with the role if none was sent yet.
fn role_delta(role_sent: &mut bool) -> ChatDelta {
    let role = (!*role_sent).then(|| "assistant".to_string());
    *role_sent = true;
    ChatDelta {
        role,
        ..ChatDelta::default()
    }
}
