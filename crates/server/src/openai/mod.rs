//! The OpenAI-compatible API under `/v1` (spec §2B): chat completions,
//! completions, models and responses.
//!
//! Each route translates its request into a native one, runs it through the
//! native `prepare` (so native validation, status codes and model loading
//! apply), and writes the [`Answer`] in OpenAI's shapes; errors go out in
//! OpenAI's envelope ([`error::OpenAiError`]).

pub mod chat;
pub mod completions;
pub mod embeddings;
pub(crate) mod error;
mod messages;
pub mod models;
mod request;
pub mod responses;

use hearth_api::openai::{ChatToolCall, ChatToolCallFunction, ChoiceLogprobs, FinishReason, Usage};
use hearth_api::ToolCall;
use hearth_engine::TokenLogprob;
use serde::Serialize;
use serde_json::Map;

use crate::answer::{Answer, EndReason, Ending, Piece};
use crate::error::ApiError;
use crate::sse::SseSender;

/// OpenAI's finish reason for an ending.
fn finish_reason(ending: &Ending) -> FinishReason {
    match ending.reason {
        EndReason::Stop => FinishReason::Stop,
        EndReason::Length => FinishReason::Length,
        EndReason::ToolCalls => FinishReason::ToolCalls,
    }
}

/// A native tool call in OpenAI's shape: `type: "function"` and the
/// arguments as JSON *text* (C-147).
fn tool_call(call: &ToolCall, with_index: bool) -> ChatToolCall {
    ChatToolCall {
        id: call.id.clone(),
        index: with_index.then_some(call.function.index),
        kind: "function".into(),
        function: ChatToolCallFunction {
            name: call.function.name.clone(),
            arguments: serde_json::Value::String(
                serde_json::Value::Object(call.function.arguments.clone()).to_string(),
            ),
        },
    }
}

/// The log probabilities of answer tokens in the wire shape; `None` when
/// there are none (they were not asked for).
fn choice_logprobs(entries: &[TokenLogprob]) -> Option<ChoiceLogprobs> {
    // The native layer owns the conversion; reuse it through its map form.
    let mut fields = Map::new();
    crate::logprobs::insert(&mut fields, entries);
    let content = serde_json::from_value(fields.remove("logprobs")?).ok()?;
    Some(ChoiceLogprobs { content })
}

/// What a stream passes on between its start and its end.
enum Delta {
    Text(String, Vec<TokenLogprob>),
    Reasoning(String),
    ToolCalls(Vec<ToolCall>),
}

fn usage(ending: &Ending) -> Usage {
    Usage::new(ending.prompt_tokens, ending.completion_tokens)
}

/// Sends each piece as `data: chunk(piece)` (nothing when `chunk` says
/// `None`) and returns the ending.
/// `None` means the stream ends here: the client left (dropping the answer
/// cancels the generation) or the generation failed, which was sent as an
/// error event (so no `[DONE]` follows, as OpenAI's SDKs expect).
async fn relay<T: Serialize>(
    mut answer: Answer,
    tx: &SseSender,
    mut chunk: impl FnMut(Delta) -> Option<T>,
) -> Option<Ending> {
    loop {
        let delta = match answer.next().await {
            Some(Ok(Piece::Text(text, logprobs))) => Delta::Text(text, logprobs),
            Some(Ok(Piece::Reasoning(text))) => Delta::Reasoning(text),
            Some(Ok(Piece::ToolCalls(calls))) => Delta::ToolCalls(calls),
            Some(Ok(Piece::End(ending))) => return Some(ending),
            Some(Err(e)) => return fail(tx, &e).await,
            None => {
                return fail(tx, &ApiError::internal("generation ended without a result")).await
            }
        };
        if let Some(c) = chunk(delta) {
            if !tx.data(&c).await {
                return None;
            }
        }
    }
}

async fn fail(tx: &SseSender, e: &ApiError) -> Option<Ending> {
    let _ = tx.data(&error::envelope(e, None)).await;
    None
}

/// Sends the closing chunks, then `[DONE]`.
async fn finish<T: Serialize>(tx: &SseSender, chunks: &[T]) {
    for chunk in chunks {
        if !tx.data(chunk).await {
            return;
        }
    }
    let _ = tx.done().await;
}
