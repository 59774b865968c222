//! Running one generation on a leased runner: a [`Job`] becomes a stream
//! of [`Event`]s, which the native routes write as NDJSON (or collect into
//! one object) and the OpenAI-compatible routes write as SSE.

use std::time::Instant;

use hearth_engine::runner::{Generation, GenerationEvent};
use hearth_engine::Completion;
use hearth_scheduler::Lease;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::stream::LineSender;

/// A generation ready to run.
pub struct Job {
    pub lease: Lease,
    pub request: hearth_engine::GenerateRequest,
    /// When the HTTP request arrived (for `total_duration`).
    pub started: Instant,
}

/// What a running generation produces.
#[derive(Debug)]
pub enum Event {
    /// A piece of answer text.
    Content(String),
    /// The end, with its counters.
    Done(Finished),
}

/// A finished generation: the engine's counters and Ollama's metric fields.
#[derive(Debug)]
pub struct Finished {
    pub completion: Completion,
    /// `total_duration`, `load_duration`, `prompt_eval_count`, … (zeros omitted).
    pub metrics: Map<String, Value>,
}

/// A generation in flight. Dropping it cancels the generation and releases
/// the lease.
pub struct Events {
    generation: Generation,
    // Held for the generation's lifetime: the model stays loaded until the
    // events are dropped.
    _lease: Lease,
    started: Instant,
    load_ns: u128,
}

impl Job {
    /// Starts the generation.
    pub fn start(self) -> Result<Events, ApiError> {
        let load_ns = self.lease.load_duration().as_nanos();
        let generation = self.lease.runner().generate(self.request)?;
        Ok(Events {
            generation,
            _lease: self.lease,
            started: self.started,
            load_ns,
        })
    }
}

impl Events {
    /// The next event; `None` after `Done` or an error.
    pub async fn next(&mut self) -> Option<Result<Event, ApiError>> {
        let event = match self.generation.next().await? {
            Ok(GenerationEvent::Token(text)) => Event::Content(text),
            Ok(GenerationEvent::Done(completion)) => {
                let metrics = metrics(self.started, self.load_ns, &completion);
                Event::Done(Finished {
                    completion,
                    metrics,
                })
            }
            Err(e) => return Some(Err(e.into())),
        };
        Some(Ok(event))
    }
}

/// The metric fields of a final chunk (zeros omitted, as Ollama does).
fn metrics(job_started: Instant, load_ns: u128, c: &Completion) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: u128| {
        if v > 0 {
            m.insert(k.to_string(), Value::from(v as u64));
        }
    };
    put("total_duration", job_started.elapsed().as_nanos());
    put("load_duration", load_ns);
    put("prompt_eval_count", u128::from(c.prompt_eval_count));
    put(
        "prompt_eval_duration",
        u128::from(c.prompt_eval_duration_ns),
    );
    put("eval_count", u128::from(c.eval_count));
    put("eval_duration", u128::from(c.eval_duration_ns));
    m
}

/// Streams text pieces as `chunk(text)` lines and ends with `last(finished)`.
/// Stops (cancelling the generation) when the client goes away.
pub async fn stream(
    job: Job,
    tx: LineSender,
    chunk: impl Fn(&str) -> Value,
    last: impl Fn(&Finished) -> Value,
) {
    let mut events = match job.start() {
        Ok(events) => events,
        Err(e) => return tx.error(&e.message).await,
    };
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Content(text)) => {
                if !tx.send(&chunk(&text)).await {
                    return; // dropping `events` cancels the generation
                }
            }
            Ok(Event::Done(finished)) => {
                let _ = tx.send(&last(&finished)).await;
                return;
            }
            Err(e) => return tx.error(&e.message).await,
        }
    }
}

/// Runs to the end and returns the whole text with the finish.
pub async fn collect(job: Job) -> Result<(String, Finished), ApiError> {
    let mut events = job.start()?;
    let mut text = String::new();
    while let Some(event) = events.next().await {
        match event? {
            Event::Content(t) => text.push_str(&t),
            Event::Done(finished) => return Ok((text, finished)),
        }
    }
    Err(ApiError::internal("generation ended without a result"))
}

/// A JSON response with Ollama's `application/json; charset=utf-8`.
pub fn json_response(status: axum::http::StatusCode, value: &Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = serde_json::to_vec(value).expect("JSON values serialize");
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
