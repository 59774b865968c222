//! Anthropic's Messages API, `POST /v1/messages`, so tools built on
//! Anthropic's SDKs can use local models.
//!
//! The request becomes a native chat request ([`request::to_native`]),
//! runs through the native `prepare` (native validation, status codes and
//! loading apply), and the answer goes out as one `message` or as the
//! `message_start` … `message_stop` event stream; errors in Anthropic's
//! envelope. `x-api-key` and `anthropic-version` headers are accepted and
//! not needed.

pub(crate) mod error;
mod request;
mod stream;

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::anthropic::{
    MessageResponse, MessageUsage, MessagesRequest, OutputBlock, StopReason,
};
use hearth_api::ToolCall;
use serde_json::Value;

use self::error::{AnthropicError, Json};
use crate::answer::{Answer, Collected, EndReason, Ending};
use crate::error::ApiError;
use crate::generation::json_response;
use crate::routes::chat::{self, Prepared};
use crate::{ids, sse, AppState};

pub async fn messages(
    State(state): State<AppState>,
    Json(req): Json<MessagesRequest>,
) -> Result<Response, AnthropicError> {
    let started = Instant::now();
    let native = request::to_native(&req)?;
    let job = match chat::prepare(&state, &native, started).await? {
        Prepared::Run(job) => *job,
        // Without messages (refused above) or `_debug_render_only` (never
        // set here) nothing would be generated.
        Prepared::Done(_) | Prepared::Rendered(_) => {
            return Err(ApiError::internal("nothing to generate").into())
        }
    };
    let answer = Answer::start(job, req.is_streaming())?;
    let head = Head::new(&req);
    if !req.is_streaming() {
        let body = serde_json::to_value(head.message(answer.collect().await?)).expect("serializes");
        return Ok(json_response(StatusCode::OK, &body));
    }
    let (tx, response) = sse::channel();
    tokio::spawn(stream::write(answer, head, tx));
    Ok(response)
}

/// The id and model every form of one answer carries, and the request's
/// stop sequences (to tell them from the template's own stops).
struct Head {
    id: String,
    model: String,
    stop_sequences: Vec<String>,
}

impl Head {
    fn new(req: &MessagesRequest) -> Self {
        Self {
            id: ids::new("msg_"),
            model: req.model.clone(),
            stop_sequences: req.stop_sequences.clone(),
        }
    }

    /// Why the answer ended, and the request's stop sequence that ended
    /// it, if one did.
    fn stop(&self, ending: &Ending) -> (StopReason, Option<String>) {
        let sequence = ending
            .stop_sequence
            .clone()
            .filter(|s| ending.reason == EndReason::Stop && self.stop_sequences.contains(s));
        let reason = match ending.reason {
            _ if sequence.is_some() => StopReason::StopSequence,
            EndReason::Stop => StopReason::EndTurn,
            EndReason::Length => StopReason::MaxTokens,
            EndReason::ToolCalls => StopReason::ToolUse,
        };
        (reason, sequence)
    }

    /// The message: its content blocks (text, then tool calls), the stop
    /// reason and the counts. `message_start` has no blocks and no reason.
    fn message(&self, answer: Collected) -> MessageResponse {
        let mut content = Vec::new();
        if !answer.reasoning.is_empty() {
            content.push(OutputBlock::Thinking {
                thinking: answer.reasoning,
                signature: String::new(),
            });
        }
        if !answer.text.is_empty() || answer.tool_calls.is_empty() {
            content.push(OutputBlock::Text { text: answer.text });
        }
        content.extend(answer.tool_calls.iter().map(tool_use));
        let (reason, sequence) = self.stop(&answer.ending);
        MessageResponse {
            stop_reason: Some(reason),
            stop_sequence: sequence,
            ..self.start(content, usage(&answer.ending))
        }
    }

    fn start(&self, content: Vec<OutputBlock>, usage: MessageUsage) -> MessageResponse {
        MessageResponse {
            id: self.id.clone(),
            kind: "message".into(),
            role: "assistant".into(),
            model: self.model.clone(),
            content,
            stop_reason: None,
            stop_sequence: None,
            usage,
        }
    }
}

fn usage(ending: &Ending) -> MessageUsage {
    MessageUsage {
        input_tokens: ending.prompt_tokens,
        output_tokens: ending.completion_tokens,
    }
}

/// A native tool call as a `tool_use` block.
fn tool_use(call: &ToolCall) -> OutputBlock {
    OutputBlock::ToolUse {
        id: call.id.clone(),
        name: call.function.name.clone(),
        input: Value::Object(call.function.arguments.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(reason: EndReason, stop: Option<&str>) -> Ending {
        Ending {
            reason,
            prompt_tokens: 1,
            completion_tokens: 1,
            stop_sequence: stop.map(str::to_string),
        }
    }

    #[test]
    fn only_the_request_s_stop_sequences_count() {
        let req: MessagesRequest =
            serde_json::from_value(serde_json::json!({"model": "m", "stop_sequences": ["END"]}))
                .unwrap();
        let head = Head::new(&req);
        assert_eq!(
            head.stop(&ending(EndReason::Stop, Some("END"))),
            (StopReason::StopSequence, Some("END".to_string()))
        );
        // A template's own stop (or an end-of-turn token) ends the turn.
        assert_eq!(
            head.stop(&ending(EndReason::Stop, Some("<|im_end|>"))),
            (StopReason::EndTurn, None)
        );
        assert_eq!(
            head.stop(&ending(EndReason::Length, None)),
            (StopReason::MaxTokens, None)
        );
        assert_eq!(
            head.stop(&ending(EndReason::ToolCalls, None)),
            (StopReason::ToolUse, None)
        );
    }
}
