//! Running one generation on a leased runner, streamed or collected.

use std::time::Instant;

use hearth_engine::runner::GenerationEvent;
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

/// The metric fields of a final chunk (zeros omitted, as Ollama does).
pub fn metrics(job_started: Instant, load_ns: u128, c: &Completion) -> Map<String, Value> {
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

/// Streams text pieces as `chunk(text)` lines and ends with `last(completion,
/// metrics)`. Stops (cancelling the generation) when the client goes away.
pub async fn stream(
    job: Job,
    tx: LineSender,
    chunk: impl Fn(&str) -> Value,
    last: impl Fn(&Completion, Map<String, Value>) -> Value,
) {
    let load_ns = job.lease.load_duration().as_nanos();
    let _running = crate::metrics::global().generation_started(true);
    let mut generation = match job.lease.runner().generate(job.request) {
        Ok(g) => g,
        Err(e) => return tx.error(&e.to_string()).await,
    };
    while let Some(event) = generation.next().await {
        match event {
            Ok(GenerationEvent::Token(text)) => {
                if !tx.send(&chunk(&text)).await {
                    return; // dropping `generation` cancels it
                }
            }
            Ok(GenerationEvent::Done(c)) => {
                crate::metrics::global().generation_finished(&c);
                let _ = tx.send(&last(&c, metrics(job.started, load_ns, &c))).await;
                return;
            }
            Err(e) => return tx.error(&e.to_string()).await,
        }
    }
}

/// Runs to the end and returns the whole text with the completion.
pub async fn collect(job: Job) -> Result<(String, Completion, Map<String, Value>), ApiError> {
    let load_ns = job.lease.load_duration().as_nanos();
    let _running = crate::metrics::global().generation_started(false);
    let mut generation = job.lease.runner().generate(job.request)?;
    let mut text = String::new();
    while let Some(event) = generation.next().await {
        match event? {
            GenerationEvent::Token(t) => text.push_str(&t),
            GenerationEvent::Done(c) => {
                crate::metrics::global().generation_finished(&c);
                let m = metrics(job.started, load_ns, &c);
                return Ok((text, c, m));
            }
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
