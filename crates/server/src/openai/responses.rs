//! `POST /v1/responses`: the stateless Responses API. `input` (a string or
//! an array of items) and `instructions` become a native chat request; the
//! answer is one `response` object whose `output[0]` is the assistant
//! message, or a stream of `response.*` events numbered by
//! `sequence_number`.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::openai::{
    OutputContent, OutputItem, ResponseEvent, ResponseObject, ResponseStreamEvent, ResponseUsage,
    ResponsesRequest,
};
use hearth_api::{ChatRequest, Message, Tool, ToolCall, ToolCallFunction, ToolFunction};
use serde_json::{json, Map, Value};

use super::error::{Json, OpenAiError};
use super::messages::image;
use super::request::{self, Sampling};
use crate::answer::{Answer, Ending, Piece};
use crate::error::ApiError;
use crate::generation::json_response;
use crate::routes::chat::{self, Prepared};
use crate::sse::{self, SseSender};
use crate::{ids, AppState};

pub async fn create(
    State(state): State<AppState>,
    Json(req): Json<ResponsesRequest>,
) -> Result<Response, OpenAiError> {
    let started = Instant::now();
    let native = to_native(&req)?;
    let reply = Reply::new(&req);
    let job = match chat::prepare(&state, &native, started).await? {
        Prepared::Run(job) => *job,
        Prepared::Done(_) => return Err(empty_input().into()),
    };
    let answer = Answer::start(job)?;
    if !req.is_streaming() {
        let (text, ending) = answer.collect().await?;
        let done = reply.object(
            "completed",
            vec![reply.message("completed", &text)],
            Some(&ending),
        );
        let body = serde_json::to_value(done).expect("serializes");
        return Ok(json_response(StatusCode::OK, &body));
    }
    let (tx, response) = sse::channel();
    tokio::spawn(stream(answer, reply, tx));
    Ok(response)
}

fn empty_input() -> ApiError {
    ApiError::bad_request("input is required")
}

/// The native chat request: `instructions` as the system message, then the
/// input items.
fn to_native(req: &ResponsesRequest) -> Result<ChatRequest, OpenAiError> {
    let mut messages = Vec::new();
    if let Some(instructions) = req.instructions.as_deref().filter(|s| !s.is_empty()) {
        messages.push(Message::system(instructions));
    }
    match &req.input {
        Some(Value::String(text)) => messages.push(Message::user(text.as_str())),
        Some(Value::Array(items)) => input_items(items, &mut messages)?,
        None | Some(Value::Null) => {}
        Some(other) => {
            return Err(OpenAiError::bad_param(
                "input",
                format!("invalid input type: {}", request::go_type(other)),
            ))
        }
    }
    if !messages.iter().any(|m| m.role != "system") {
        return Err(OpenAiError {
            error: empty_input(),
            param: Some("input"),
        });
    }
    let sampling = Sampling {
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens: req.max_output_tokens,
        seed: req.seed,
        ..Sampling::default()
    };
    let effort = req.reasoning.as_ref().and_then(|r| r.effort.as_deref());
    Ok(ChatRequest {
        model: req.model.clone(),
        messages,
        format: text_format(req)?,
        tools: tools(req),
        options: Some(sampling.options()),
        think: request::think(effort)?,
        stream: Some(false),
        ..ChatRequest::default()
    })
}

/// Input items → native messages. Tool outputs name their call by
/// `call_id`, so the calls seen so far are remembered.
fn input_items(items: &[Value], out: &mut Vec<Message>) -> Result<(), ApiError> {
    let mut call_names: HashMap<String, String> = HashMap::new();
    for item in items {
        let kind = item.get("type").and_then(Value::as_str);
        let field = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        match kind {
            // `{"role","content"}` with no type is the shorthand message.
            None | Some("message") => out.push(input_message(item)?),
            Some("function_call") => {
                call_names.insert(field("call_id"), field("name"));
                out.push(function_call(item)?);
            }
            Some("function_call_output") => {
                let mut m = Message::new("tool", output_text(item.get("output")));
                m.tool_call_id = field("call_id");
                m.tool_name = call_names.get(&m.tool_call_id).cloned().unwrap_or_default();
                out.push(m);
            }
            // Reasoning from an earlier turn: this server's models do not think.
            Some("reasoning") => {}
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unsupported input item type: \"{other}\""
                )))
            }
        }
    }
    Ok(())
}

fn input_message(item: &Value) -> Result<Message, ApiError> {
    let role = match item.get("role").and_then(Value::as_str).unwrap_or("user") {
        "developer" => "system",
        other => other,
    };
    let mut m = Message::new(role.to_lowercase(), "");
    match item.get("content") {
        Some(Value::String(s)) => m.content = s.clone(),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text" | "text") => {
                        texts.push(part.get("text").and_then(Value::as_str).unwrap_or(""));
                    }
                    Some("input_image") => m.images.push(image(part.get("image_url"))?),
                    Some("input_file") => {
                        return Err(ApiError::bad_request(
                            "file inputs are not currently supported",
                        ))
                    }
                    _ => return Err(ApiError::bad_request("invalid message format")),
                }
            }
            m.content = texts.join("\n");
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid message content type: {}",
                other.map_or("<nil>", request::go_type)
            )))
        }
    }
    Ok(m)
}

/// An earlier `function_call` item as an assistant turn with a tool call.
fn function_call(item: &Value) -> Result<Message, ApiError> {
    let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
    let arguments = match serde_json::from_str::<Value>(text("arguments")) {
        Ok(Value::Object(map)) => map,
        _ if text("arguments").trim().is_empty() => Map::new(),
        _ => return Err(ApiError::bad_request("invalid tool call arguments")),
    };
    let mut m = Message::assistant("");
    m.tool_calls.push(ToolCall {
        id: text("call_id").to_string(),
        function: ToolCallFunction {
            index: 0,
            name: text("name").to_string(),
            arguments,
        },
    });
    Ok(m)
}

/// A tool output: a string, or parts whose texts are joined.
fn output_text(output: Option<&Value>) -> String {
    match output {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// `text.format` as a native `format`.
fn text_format(req: &ResponsesRequest) -> Result<Option<Value>, ApiError> {
    let Some(format) = req.text.as_ref().and_then(|t| t.format.as_ref()) else {
        return Ok(None);
    };
    match format.get("type").and_then(Value::as_str).unwrap_or("text") {
        "text" => Ok(None),
        "json_object" => Ok(Some(json!("json"))),
        "json_schema" => Ok(Some(format.get("schema").cloned().unwrap_or(json!("json")))),
        other => Err(ApiError::bad_request(format!(
            "invalid text.format type: \"{other}\""
        ))),
    }
}

/// Function tools in native shape; other tool kinds (web search, …) need
/// services this server does not have and are left out.
fn tools(req: &ResponsesRequest) -> Vec<Tool> {
    if req.tool_choice.as_ref().and_then(Value::as_str) == Some("none") {
        return Vec::new();
    }
    req.tools
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .map(|t| Tool {
            kind: "function".into(),
            items: None,
            function: ToolFunction {
                name: t.get("name").and_then(Value::as_str).unwrap_or("").into(),
                description: t
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .into(),
                parameters: t.get("parameters").cloned().unwrap_or(Value::Null),
            },
        })
        .collect()
}

/// One reply's ids, times and the request settings every response object
/// echoes.
struct Reply {
    id: String,
    message_id: String,
    created_at: i64,
    model: String,
    instructions: Option<String>,
    max_output_tokens: Option<i64>,
    temperature: f64,
    top_p: f64,
    tools: Vec<Value>,
    text: Value,
    reasoning: Option<hearth_api::openai::Reasoning>,
}

impl Reply {
    fn new(req: &ResponsesRequest) -> Self {
        let format = req
            .text
            .as_ref()
            .and_then(|t| t.format.clone())
            .unwrap_or(json!({"type": "text"}));
        Self {
            id: ids::new("resp_"),
            message_id: ids::new("msg_"),
            created_at: ids::unix_now(),
            model: req.model.clone(),
            instructions: req.instructions.clone(),
            max_output_tokens: req.max_output_tokens,
            temperature: req.temperature.unwrap_or(1.0),
            top_p: req.top_p.unwrap_or(1.0),
            tools: req.tools.clone(),
            text: json!({ "format": format }),
            reasoning: req.reasoning.clone(),
        }
    }

    fn message(&self, status: &str, text: &str) -> OutputItem {
        OutputItem::Message {
            id: self.message_id.clone(),
            status: status.into(),
            role: "assistant".into(),
            content: vec![output_text_part(text)],
        }
    }

    /// The response object in a given state; `ending` adds the usage and
    /// completion time.
    fn object(
        &self,
        status: &str,
        output: Vec<OutputItem>,
        ending: Option<&Ending>,
    ) -> ResponseObject {
        ResponseObject {
            id: self.id.clone(),
            object: "response".into(),
            created_at: self.created_at,
            completed_at: ending.map(|_| ids::unix_now()),
            status: status.into(),
            model: self.model.clone(),
            output,
            usage: ending.map(|e| ResponseUsage::new(e.prompt_tokens, e.completion_tokens)),
            instructions: self.instructions.clone(),
            max_output_tokens: self.max_output_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            tools: self.tools.clone(),
            tool_choice: json!("auto"),
            parallel_tool_calls: true,
            truncation: "disabled".into(),
            text: self.text.clone(),
            reasoning: self.reasoning.clone(),
            store: false,
            service_tier: "default".into(),
            metadata: Map::new(),
            error: None,
            incomplete_details: None,
            previous_response_id: None,
            max_tool_calls: None,
            safety_identifier: None,
            prompt_cache_key: None,
        }
    }
}

fn output_text_part(text: &str) -> OutputContent {
    OutputContent::OutputText {
        text: text.into(),
        annotations: Vec::new(),
        logprobs: Vec::new(),
    }
}

/// Numbers events as they are sent.
struct EventSender {
    tx: SseSender,
    next: u64,
}

impl EventSender {
    /// Sends `event`; `false` means the client is gone.
    async fn send(&mut self, event: ResponseEvent) -> bool {
        let numbered = ResponseStreamEvent {
            sequence_number: self.next,
            event,
        };
        self.next += 1;
        self.tx.event(numbered.event.kind(), &numbered).await
    }
}

/// The event sequence of a streamed response: created, in progress, the
/// message item and its text part opened, text deltas, everything closed,
/// then `response.completed` (or `response.failed`).
async fn stream(mut answer: Answer, reply: Reply, tx: SseSender) {
    let mut out = EventSender { tx, next: 0 };
    let item_id = reply.message_id.clone();
    let opening = [
        ResponseEvent::Created {
            response: Box::new(reply.object("in_progress", Vec::new(), None)),
        },
        ResponseEvent::InProgress {
            response: Box::new(reply.object("in_progress", Vec::new(), None)),
        },
        ResponseEvent::OutputItemAdded {
            output_index: 0,
            item: OutputItem::Message {
                id: item_id.clone(),
                status: "in_progress".into(),
                role: "assistant".into(),
                content: Vec::new(),
            },
        },
        ResponseEvent::ContentPartAdded {
            item_id: item_id.clone(),
            output_index: 0,
            content_index: 0,
            part: output_text_part(""),
        },
    ];
    for event in opening {
        if !out.send(event).await {
            return;
        }
    }
    let mut text = String::new();
    let ending = loop {
        let failure = match answer.next().await {
            Some(Ok(Piece::Text(delta))) => {
                text.push_str(&delta);
                let event = ResponseEvent::OutputTextDelta {
                    item_id: item_id.clone(),
                    output_index: 0,
                    content_index: 0,
                    delta,
                    logprobs: Vec::new(),
                };
                if !out.send(event).await {
                    return; // the client left; dropping `answer` cancels
                }
                continue;
            }
            Some(Ok(Piece::End(ending))) => break ending,
            Some(Err(e)) => e,
            None => ApiError::internal("generation ended without a result"),
        };
        let mut failed = reply.object("failed", Vec::new(), None);
        failed.error = Some(json!({"code": "server_error", "message": failure.message}));
        let _ = out
            .send(ResponseEvent::Failed {
                response: Box::new(failed),
            })
            .await;
        return;
    };
    let closing = [
        ResponseEvent::OutputTextDone {
            item_id: item_id.clone(),
            output_index: 0,
            content_index: 0,
            text: text.clone(),
            logprobs: Vec::new(),
        },
        ResponseEvent::ContentPartDone {
            item_id,
            output_index: 0,
            content_index: 0,
            part: output_text_part(&text),
        },
        ResponseEvent::OutputItemDone {
            output_index: 0,
            item: reply.message("completed", &text),
        },
        ResponseEvent::Completed {
            response: Box::new(reply.object(
                "completed",
                vec![reply.message("completed", &text)],
                Some(&ending),
            )),
        },
    ];
    for event in closing {
        if !out.send(event).await {
            return;
        }
    }
}
