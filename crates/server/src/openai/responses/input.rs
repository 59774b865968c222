//! Responses API input → a native chat request: `instructions` first, then
//! the input items (messages, earlier function calls and their outputs),
//! with `text.format`, function tools and sampling settings translated.

use std::collections::HashMap;

use hearth_api::openai::ResponsesRequest;
use hearth_api::{ChatRequest, Message, Tool, ToolCall, ToolCallFunction, ToolFunction};
use serde_json::{json, Map, Value};

use super::super::error::OpenAiError;
use super::super::messages::image;
use super::super::request::{self, Sampling};
use crate::error::ApiError;
use crate::tool_choice::ToolChoice;

pub fn empty_input() -> ApiError {
    ApiError::bad_request("input is required")
}

/// The native chat request: `instructions` as the system message, then the
/// input items.
pub fn to_native(req: &ResponsesRequest) -> Result<ChatRequest, OpenAiError> {
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
    let tools = tools(req);
    let format = match text_format(req)? {
        Some(format) => Some(format),
        None => ToolChoice::responses(req.tool_choice.as_ref()).forced_format(&tools),
    };
    Ok(ChatRequest {
        model: req.model.clone(),
        messages,
        format,
        tools,
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
/// services this server does not have and are left out; `tool_choice`
/// narrows the rest.
fn tools(req: &ResponsesRequest) -> Vec<Tool> {
    let tools = req
        .tools
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
        .collect();
    ToolChoice::responses(req.tool_choice.as_ref()).apply(tools)
}
