//! `POST /v1/completions`: legacy text completion through the native
//! generate path ([`routes::generate::prepare`]), answered as one
//! `text_completion` or streamed as SSE chunks of the same object type.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::openai::{
    CompletionChoice, CompletionRequest, FinishReason, TextCompletion, Usage, SYSTEM_FINGERPRINT,
};
use hearth_api::GenerateRequest;

use super::error::{Json, OpenAiError};
use super::request::{self, Sampling};
use super::{finish, finish_reason, relay, usage, Delta};
use crate::answer::{Answer, Collected, Ending};
use crate::generation::json_response;
use crate::routes::generate::{self, Prepared};
use crate::sse::{self, SseSender};
use crate::{ids, AppState};

pub async fn completions(
    State(state): State<AppState>,
    Json(req): Json<CompletionRequest>,
) -> Result<Response, OpenAiError> {
    let started = Instant::now();
    let native = to_native(&req)?;
    let reply = Reply::new(&req);
    let answer = match generate::prepare(&state, &native, started).await? {
        Prepared::Run { job, .. } => Some(Answer::start(*job, req.is_streaming())?),
        // An empty prompt only loads the model: an empty answer.
        // (`_debug_render_only` is never set here.)
        Prepared::Done(_) | Prepared::Rendered(_) => None,
    };
    if !req.is_streaming() {
        let done = match answer {
            Some(answer) => answer.collect().await?,
            None => Collected::empty(),
        };
        let body =
            serde_json::to_value(reply.complete(done.text, done.ending)).expect("serializes");
        return Ok(json_response(StatusCode::OK, &body));
    }
    let (tx, response) = sse::channel();
    tokio::spawn(stream(answer, reply, req.include_usage(), tx));
    Ok(response)
}

fn to_native(req: &CompletionRequest) -> Result<GenerateRequest, OpenAiError> {
    if req.n.is_some_and(|n| n != 1) {
        return Err(OpenAiError::bad_param(
            "n",
            "n must be 1: Hearth generates one choice per request",
        ));
    }
    let sampling = Sampling {
        temperature: req.temperature,
        // Ollama treats `top_p: 0` as unset here.
        top_p: req.top_p.filter(|&p| p != 0.0),
        max_tokens: req.max_tokens,
        seed: req.seed,
        frequency_penalty: req.frequency_penalty,
        presence_penalty: req.presence_penalty,
        stop: request::stop_strict(req.stop.as_ref()).map_err(|e| OpenAiError {
            error: e,
            param: Some("stop"),
        })?,
    };
    Ok(GenerateRequest {
        model: req.model.clone(),
        prompt: req.prompt.clone(),
        suffix: req.suffix.clone(),
        options: Some(sampling.options()),
        stream: Some(false),
        ..GenerateRequest::default()
    })
}

/// What every object of one reply shares, and the echoed prompt.
struct Reply {
    id: String,
    created: i64,
    model: String,
    /// The prompt, when `echo` asks for it before the answer.
    echo: Option<String>,
}

impl Reply {
    fn new(req: &CompletionRequest) -> Self {
        Self {
            id: ids::new("cmpl-"),
            created: ids::unix_now(),
            model: req.model.clone(),
            echo: req.echo.then(|| req.prompt.clone()),
        }
    }

    fn complete(&self, text: String, ending: Ending) -> TextCompletion {
        let text = match &self.echo {
            Some(prompt) => format!("{prompt}{text}"),
            None => text,
        };
        let choice = self.choice(text, Some(finish_reason(&ending)));
        self.object(vec![choice], Some(usage(&ending)))
    }

    fn choice(&self, text: String, finish: Option<FinishReason>) -> CompletionChoice {
        CompletionChoice {
            text,
            index: 0,
            logprobs: None,
            finish_reason: finish,
        }
    }

    fn object(&self, choices: Vec<CompletionChoice>, usage: Option<Usage>) -> TextCompletion {
        TextCompletion {
            id: self.id.clone(),
            object: "text_completion".into(),
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: SYSTEM_FINGERPRINT.into(),
            choices,
            usage,
        }
    }
}

/// Writes the echoed prompt (if any), the text chunks, a chunk with the
/// finish reason, the usage chunk when asked for, then `[DONE]`.
async fn stream(answer: Option<Answer>, reply: Reply, include_usage: bool, tx: SseSender) {
    if let Some(prompt) = reply.echo.clone() {
        if !tx
            .data(&reply.object(vec![reply.choice(prompt, None)], None))
            .await
        {
            return;
        }
    }
    let ending = match answer {
        Some(answer) => {
            // A completion carries only answer text: no tools are offered,
            // and a thinking model's reasoning has no place here.
            let chunk = |delta| match delta {
                Delta::Text(text, _) => Some(reply.object(vec![reply.choice(text, None)], None)),
                Delta::Reasoning(_) | Delta::ToolCalls(_) => None,
            };
            match relay(answer, &tx, chunk).await {
                Some(ending) => ending,
                None => return,
            }
        }
        None => Ending::empty(),
    };
    let mut tail = vec![reply.object(
        vec![reply.choice(String::new(), Some(finish_reason(&ending)))],
        None,
    )];
    if include_usage {
        tail.push(reply.object(Vec::new(), Some(usage(&ending))));
    }
    finish(&tx, &tail).await;
}
