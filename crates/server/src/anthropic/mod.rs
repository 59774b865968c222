//! Anthropic's Messages API, `POST /v1/messages`, so tools built on
//! Anthropic's SDKs can use local models.
//!
//! The request becomes a native chat request ([`request::to_native`]),
//! runs through the native `prepare` (native validation, status codes and
//! loading apply), and the answer goes out as one `message` or as the
//! `message_start` … `message_stop` event stream; errors in Anthropic's
//! envelope. `x-api-key` and `anthropic-version` headers are accepted and
//! not needed.

mod error;
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
        // Only an empty conversation just loads; that was refused.
        Prepared::Done(_) => return Err(ApiError::internal("nothing to generate").into()),
    };
    let answer = Answer::start(job)?;
    let head = Head::new(&req.model);
    if !req.is_streaming() {
        let body = serde_json::to_value(head.message(answer.collect().await?)).expect("serializes");
        return Ok(json_response(StatusCode::OK, &body));
    }
    let (tx, response) = sse::channel();
    tokio::spawn(stream::write(answer, head, tx));
    Ok(response)
}

/// The id and model every form of one answer carries.
struct Head {
    id: String,
    model: String,
}

impl Head {
    fn new(model: &str) -> Self {
        Self {
            id: ids::new("msg_"),
            model: model.to_string(),
        }
    }

    /// The message: its content blocks (text, then tool calls), the stop
    /// reason and the counts. `message_start` has no blocks and no reason.
    fn message(&self, answer: Collected) -> MessageResponse {
        let mut content = Vec::new();
        if !answer.text.is_empty() || answer.tool_calls.is_empty() {
            content.push(OutputBlock::Text { text: answer.text });
        }
        content.extend(answer.tool_calls.iter().map(tool_use));
        MessageResponse {
            stop_reason: Some(stop_reason(&answer.ending)),
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

fn stop_reason(ending: &Ending) -> StopReason {
    match ending.reason {
        EndReason::Stop => StopReason::EndTurn,
        EndReason::Length => StopReason::MaxTokens,
        EndReason::ToolCalls => StopReason::ToolUse,
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
