//! A generation as the compatibility APIs (OpenAI, Anthropic) see it: text
//! pieces, then one ending with the token counts.
//!
//! This is the one place where native generation [`Event`]s (text with its
//! log probabilities, reasoning, tool calls, the end) are mapped for those
//! APIs, so what the native layer learns to produce later is added here
//! once and reaches every compatible route.

use hearth_api::ToolCall;
use hearth_engine::TokenLogprob;

use crate::error::ApiError;
use crate::generation::{Event, Events, Finished, Job};

/// Why an answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// End of turn or a stop sequence.
    Stop,
    /// The token budget or the context ran out.
    Length,
    /// The model ended its turn by calling tools.
    ToolCalls,
}

/// The end of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub reason: EndReason,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// The stop string that ended the answer (a request's or the
    /// template's), if one did.
    pub stop_sequence: Option<String>,
}

impl Ending {
    /// The ending of a request that generated nothing (a bare model load).
    pub fn empty() -> Self {
        Self {
            reason: EndReason::Stop,
            prompt_tokens: 0,
            completion_tokens: 0,
            stop_sequence: None,
        }
    }

    fn from_finished(f: &Finished) -> Self {
        let reason = match f.completion.done_reason {
            hearth_engine::DoneReason::Stop => EndReason::Stop,
            hearth_engine::DoneReason::Length => EndReason::Length,
        };
        Self {
            reason,
            prompt_tokens: u64::from(f.completion.prompt_eval_count),
            completion_tokens: u64::from(f.completion.eval_count),
            stop_sequence: f.completion.stop_sequence.clone(),
        }
    }
}

/// What an answer produces next.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Answer text, with the log probabilities of the tokens that produced
    /// it when the request asked for them; never both empty.
    Text(String, Vec<TokenLogprob>),
    /// Reasoning of a thinking model, apart from the answer; never empty.
    Reasoning(String),
    /// Tool calls parsed out of the answer (only when tools were offered),
    /// numbered by `function.index` across the answer.
    ToolCalls(Vec<ToolCall>),
    /// The end; nothing follows.
    End(Ending),
}

/// An answer in flight. Dropping it cancels the generation.
pub struct Answer {
    events: Events,
    called_tools: bool,
}

impl Answer {
    /// Starts `job`; `streamed` says whether the answer goes out as it
    /// comes (the metrics count the others as deferred). Fails before any
    /// byte is sent, so the error still gets its own status.
    pub fn start(job: Job, streamed: bool) -> Result<Self, ApiError> {
        Ok(Self {
            events: job.start(streamed)?,
            called_tools: false,
        })
    }

    /// The next piece; `None` after the end or an error.
    pub async fn next(&mut self) -> Option<Result<Piece, ApiError>> {
        loop {
            let piece = match self.events.next().await? {
                Ok(Event::Content(text, lp)) if text.is_empty() && lp.is_empty() => continue,
                Ok(Event::Content(text, lp)) => Piece::Text(text, lp),
                Ok(Event::Thinking(text, _)) if text.is_empty() => continue,
                Ok(Event::Thinking(text, _)) => Piece::Reasoning(text),
                Ok(Event::ToolCalls(calls)) => {
                    self.called_tools = true;
                    Piece::ToolCalls(calls.into_iter().map(tool_call).collect())
                }
                Ok(Event::Done(finished)) => {
                    let mut ending = Ending::from_finished(&finished);
                    // A turn that called tools and then stopped ended *for*
                    // the calls, as OpenAI and Anthropic report it.
                    if self.called_tools && ending.reason == EndReason::Stop {
                        ending.reason = EndReason::ToolCalls;
                    }
                    Piece::End(ending)
                }
                Err(e) => return Some(Err(e)),
            };
            return Some(Ok(piece));
        }
    }

    /// Runs to the end and gathers everything.
    pub async fn collect(mut self) -> Result<Collected, ApiError> {
        let mut all = Collected::empty();
        while let Some(piece) = self.next().await {
            match piece? {
                Piece::Text(t, lp) => {
                    all.text.push_str(&t);
                    all.logprobs.extend(lp);
                }
                Piece::Reasoning(t) => all.reasoning.push_str(&t),
                Piece::ToolCalls(calls) => all.tool_calls.extend(calls),
                Piece::End(ending) => {
                    all.ending = ending;
                    return Ok(all);
                }
            }
        }
        Err(ApiError::internal("generation ended without a result"))
    }
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    pub text: String,
    pub reasoning: String,
    pub logprobs: Vec<TokenLogprob>,
    pub tool_calls: Vec<ToolCall>,
    pub ending: Ending,
}

impl Collected {
    /// The answer of a request that generated nothing (a bare model load).
    pub fn empty() -> Self {
        Self {
            text: String::new(),
            reasoning: String::new(),
            logprobs: Vec::new(),
            tool_calls: Vec::new(),
            ending: Ending::empty(),
        }
    }
}

/// A native call (`{"id","function":{"index","name","arguments"}}`) typed.
fn tool_call(value: serde_json::Value) -> ToolCall {
    serde_json::from_value(value).unwrap_or_default()
}
