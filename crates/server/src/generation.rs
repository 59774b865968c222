//! Running one generation on a leased runner: a [`Job`] becomes a stream
//! of [`Event`]s, which the native routes write as NDJSON (or collect into
//! one object) and the OpenAI-compatible routes write as SSE.

use std::time::Instant;

use std::collections::VecDeque;

use hearth_engine::runner::{Generation, GenerationEvent};
use hearth_engine::thinking::{Piece, ThinkingParser};
use hearth_engine::tools::{ToolCallParser, ToolOutput};
use hearth_engine::{Completion, TokenLogprob};
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
    /// Set when the request offered tools: turns calls in the text into
    /// [`Event::ToolCalls`].
    pub tools: Option<ToolCallParser>,
    /// Set when the model thinks: splits reasoning from the answer.
    pub thinking: Option<ThinkingParser>,
}

/// What a running generation produces.
#[derive(Debug)]
pub enum Event {
    /// A piece of answer text, with the log probabilities of the tokens
    /// that produced it (when asked for).
    Content(String, Vec<TokenLogprob>),
    /// A piece of reasoning, likewise.
    Thinking(String, Vec<TokenLogprob>),
    /// Tool calls, each `{"id", "function": {"index", "name", "arguments"}}`.
    ToolCalls(Vec<Value>),
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
    tools: Option<ToolCallParser>,
    thinking: Option<ThinkingParser>,
    /// Log probabilities not yet attached to text (it was held back).
    logprobs: Vec<TokenLogprob>,
    /// Counts this generation as running in the metrics until dropped.
    _running: crate::metrics::RunningGuard,
    /// Events parsed ahead of the one being returned.
    ready: VecDeque<Event>,
    calls_made: usize,
}

impl Job {
    /// Starts the generation. `streamed` says whether its output goes to
    /// the client as it comes (for the metrics of deferred requests).
    pub fn start(self, streamed: bool) -> Result<Events, ApiError> {
        let running = crate::metrics::global().generation_started(streamed);
        let load_ns = self.lease.load_duration().as_nanos();
        let generation = self.lease.runner().generate(self.request)?;
        Ok(Events {
            generation,
            _lease: self.lease,
            started: self.started,
            load_ns,
            tools: self.tools,
            thinking: self.thinking,
            logprobs: Vec::new(),
            _running: running,
            ready: VecDeque::new(),
            calls_made: 0,
        })
    }
}

impl Events {
    /// The next event; `None` after `Done` or an error.
    pub async fn next(&mut self) -> Option<Result<Event, ApiError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            match self.generation.next().await? {
                Ok(GenerationEvent::Token(piece)) => {
                    self.logprobs.extend(piece.logprobs);
                    let before = self.ready.len();
                    self.parse(Some(&piece.text));
                    self.attach_logprobs(before);
                }
                Ok(GenerationEvent::Done(completion)) => {
                    crate::metrics::global().generation_finished(&completion);
                    let before = self.ready.len();
                    self.parse(None);
                    self.attach_logprobs(before);
                    let metrics = metrics(self.started, self.load_ns, &completion);
                    self.ready.push_back(Event::Done(Finished {
                        completion,
                        metrics,
                    }));
                }
                Err(e) => return Some(Err(e.into())),
            }
        }
    }

    /// Gives the pending log probabilities to the first text event queued
    /// since `from`; if none was (text held back), they wait.
    fn attach_logprobs(&mut self, from: usize) {
        if self.logprobs.is_empty() {
            return;
        }
        let pending = &mut self.logprobs;
        if let Some(Event::Content(_, lp) | Event::Thinking(_, lp)) = self
            .ready
            .iter_mut()
            .skip(from)
            .find(|e| matches!(e, Event::Content(..) | Event::Thinking(..)))
        {
            lp.append(pending);
        }
    }

    /// Runs text (or the end, `None`) through the thinking parser, then
    /// the answer part through the tool-call parser.
    fn parse(&mut self, text: Option<&str>) {
        let pieces = match (self.thinking.as_mut(), text) {
            (Some(p), Some(t)) => p.push(t),
            (Some(p), None) => p.finish(),
            (None, Some(t)) => vec![Piece::Content(t.to_string())],
            (None, None) => Vec::new(),
        };
        for piece in pieces {
            match piece {
                Piece::Thinking(t) => self.ready.push_back(Event::Thinking(t, Vec::new())),
                Piece::Content(c) => self.parse_tools(Some(&c)),
            }
        }
        if text.is_none() {
            self.parse_tools(None);
        }
    }

    fn parse_tools(&mut self, text: Option<&str>) {
        let Some(parser) = self.tools.as_mut() else {
            if let Some(t) = text {
                self.ready
                    .push_back(Event::Content(t.to_string(), Vec::new()));
            }
            return;
        };
        let outputs = match text {
            Some(t) => parser.push(t),
            None => parser.finish(),
        };
        for output in outputs {
            let event = match output {
                ToolOutput::Content(t) => Event::Content(t, Vec::new()),
                ToolOutput::Calls(calls) => Event::ToolCalls(
                    calls
                        .into_iter()
                        .map(|c| {
                            let index = self.calls_made;
                            self.calls_made += 1;
                            serde_json::json!({"id": call_id(), "function": {"index": index, "name": c.name, "arguments": c.arguments}})
                        })
                        .collect(),
                ),
            };
            self.ready.push_back(event);
        }
    }
}

/// `call_` and eight lower-case letters and digits, as Ollama's ids look.
fn call_id() -> String {
    use std::hash::{BuildHasher, Hasher, RandomState};
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let mut n = h.finish();
    let mut id = String::from("call_");
    for _ in 0..8 {
        id.push(ALPHABET[(n % 36) as usize] as char);
        n /= 36;
    }
    id
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

/// Streams every event as the line `line(&event)` returns. Stops
/// (cancelling the generation) when the client goes away.
pub async fn stream(job: Job, tx: LineSender, line: impl Fn(&Event) -> Value) {
    let mut events = match job.start(true) {
        Ok(events) => events,
        Err(e) => return tx.error(&e.message).await,
    };
    while let Some(event) = events.next().await {
        match event {
            Ok(event) => {
                let done = matches!(event, Event::Done(_));
                if !tx.send(&line(&event)).await || done {
                    return; // dropping `events` cancels the generation
                }
            }
            Err(e) => return tx.error(&e.message).await,
        }
    }
}

/// Everything a generation produced, collected.
pub struct Collected {
    pub text: String,
    pub thinking: String,
    pub tool_calls: Vec<Value>,
    pub finished: Finished,
}

/// Runs to the end and returns the whole text, the tool calls and the finish.
pub async fn collect(job: Job) -> Result<Collected, ApiError> {
    let mut events = job.start(false)?;
    let mut text = String::new();
    let mut thinking = String::new();
    let mut tool_calls = Vec::new();
    let mut logprobs = Vec::new();
    while let Some(event) = events.next().await {
        match event? {
            Event::Content(t, lp) => {
                text.push_str(&t);
                logprobs.extend(lp);
            }
            Event::Thinking(t, lp) => {
                thinking.push_str(&t);
                logprobs.extend(lp);
            }
            Event::ToolCalls(calls) => tool_calls.extend(calls),
            Event::Done(mut finished) => {
                crate::logprobs::insert(&mut finished.metrics, &logprobs);
                return Ok(Collected {
                    text,
                    thinking,
                    tool_calls,
                    finished,
                });
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
