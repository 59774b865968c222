//! The OpenAI-compatible API under `/v1` (spec §2B): chat completions,
//! completions, models and responses.
//!
//! Each route translates its request into a native one, runs it through the
//! native `prepare` (so native validation, status codes and model loading
//! apply), and writes the [`Answer`] in OpenAI's shapes; errors go out in
//! OpenAI's envelope ([`error::OpenAiError`]).

pub mod chat;
pub mod completions;
mod error;
mod messages;
pub mod models;
mod request;
pub mod responses;

use hearth_api::openai::{FinishReason, Usage};
use serde::Serialize;

use crate::answer::{Answer, EndReason, Ending, Piece};
use crate::error::ApiError;
use crate::sse::SseSender;

/// OpenAI's finish reason for an ending (tool calls will map here too).
fn finish_reason(ending: &Ending) -> FinishReason {
    match ending.reason {
        EndReason::Stop => FinishReason::Stop,
        EndReason::Length => FinishReason::Length,
    }
}

fn usage(ending: &Ending) -> Usage {
    Usage::new(ending.prompt_tokens, ending.completion_tokens)
}

/// Sends each text piece as `data: chunk(text)` and returns the ending.
/// `None` means the stream ends here: the client left (dropping the answer
/// cancels the generation) or the generation failed, which was sent as an
/// error event (so no `[DONE]` follows, as OpenAI's SDKs expect).
async fn relay<T: Serialize>(
    mut answer: Answer,
    tx: &SseSender,
    mut chunk: impl FnMut(String) -> T,
) -> Option<Ending> {
    loop {
        let failure = match answer.next().await {
            Some(Ok(Piece::Text(text))) => {
                if !tx.data(&chunk(text)).await {
                    return None;
                }
                continue;
            }
            Some(Ok(Piece::End(ending))) => return Some(ending),
            Some(Err(e)) => e,
            None => ApiError::internal("generation ended without a result"),
        };
        let _ = tx.data(&error::envelope(&failure, None)).await;
        return None;
    }
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
