//! An Anthropic Messages request → a native chat request: `system` first,
//! then the turns with their content blocks (text, base64 images, earlier
//! tool calls and their results), tools, and the sampling settings.

use std::collections::HashMap;

use hearth_api::anthropic::{ImageSource, InputBlock, InputContent, InputMessage, MessagesRequest};
use hearth_api::{ChatRequest, Message, Tool, ToolCall, ToolCallFunction, ToolFunction};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::tool_choice::ToolChoice;

/// The native request. `thinking` only turns thinking off
/// (`{"type":"disabled"}`): a model that can think does so by default, and
/// one that cannot is not failed for being asked (Ollama drops the request
/// silently too).
pub fn to_native(req: &MessagesRequest) -> Result<ChatRequest, ApiError> {
    let Some(max_tokens) = req.max_tokens else {
        return Err(ApiError::bad_request("max_tokens: Field required"));
    };
    if req.messages.is_empty() {
        return Err(ApiError::bad_request(
            "messages: at least one message is required",
        ));
    }
    let mut messages = Vec::new();
    if let Some(system) = system_text(req.system.as_ref())? {
        messages.push(Message::system(system));
    }
    let mut call_names = HashMap::new();
    for m in &req.messages {
        turn(m, &mut call_names, &mut messages)?;
    }
    let tools = tools(req);
    let format = output_format(req)
        .or_else(|| ToolChoice::anthropic(req.tool_choice.as_ref()).forced_format(&tools));
    Ok(ChatRequest {
        model: req.model.clone(),
        messages,
        tools,
        format,
        think: thinking_off(req).then_some(json!(false)),
        options: Some(options(req, max_tokens)),
        stream: Some(false),
        ..ChatRequest::default()
    })
}

/// `system`: a string or `text` blocks (joined a line apart).
fn system_text(system: Option<&Value>) -> Result<Option<String>, ApiError> {
    match system {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
        Some(Value::Array(blocks)) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            Ok(Some(texts.join("\n")).filter(|s| !s.is_empty()))
        }
        Some(_) => Err(ApiError::bad_request(
            "system: Input should be a valid string or a list of text blocks",
        )),
    }
}

/// One turn. Tool results become native `tool` messages placed before the
/// turn's own text, since they answer the previous assistant turn.
fn turn(
    m: &InputMessage,
    call_names: &mut HashMap<String, String>,
    out: &mut Vec<Message>,
) -> Result<(), ApiError> {
    let role = m.role.to_lowercase();
    let blocks = match &m.content {
        InputContent::Text(text) => {
            out.push(Message::new(role, text.as_str()));
            return Ok(());
        }
        InputContent::Blocks(blocks) => blocks,
    };
    let mut native = Message::new(role, "");
    let mut texts: Vec<&str> = Vec::new();
    for block in blocks {
        match block {
            InputBlock::Text { text } => texts.push(text),
            InputBlock::Image { source } => native.images.push(image(source)?),
            InputBlock::ToolUse { id, name, input } => {
                call_names.insert(id.clone(), name.clone());
                native
                    .tool_calls
                    .push(tool_call(native.tool_calls.len(), id, name, input));
            }
            InputBlock::ToolResult {
                tool_use_id,
                content,
                ..
            } => {
                let mut result = Message::new("tool", result_text(content.as_ref()));
                result.tool_name = call_names.get(tool_use_id).cloned().unwrap_or_default();
                result.tool_call_id = tool_use_id.clone();
                out.push(result);
            }
            InputBlock::Thinking { thinking, .. } => native.thinking.push_str(thinking),
            InputBlock::RedactedThinking { .. } => {}
        }
    }
    native.content = texts.join("\n");
    let has_tool_results = out.last().is_some_and(|m| m.role == "tool");
    let empty =
        native.content.is_empty() && native.images.is_empty() && native.tool_calls.is_empty();
    if !(empty && has_tool_results) {
        out.push(native);
    }
    Ok(())
}

/// A base64 image; the server fetches nothing, so URL sources are refused.
fn image(source: &ImageSource) -> Result<String, ApiError> {
    match (source.kind.as_str(), &source.data) {
        ("base64", Some(data)) => Ok(data.clone()),
        ("url", _) => Err(ApiError::bad_request(
            "image URLs are not currently supported, please use base64 encoded data instead",
        )),
        _ => Err(ApiError::bad_request("invalid image source")),
    }
}

fn tool_call(index: usize, id: &str, name: &str, input: &Value) -> ToolCall {
    ToolCall {
        id: id.to_string(),
        function: ToolCallFunction {
            index,
            name: name.to_string(),
            arguments: input.as_object().cloned().unwrap_or_default(),
        },
    }
}

/// A tool result's content: a string or text blocks.
fn result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn thinking_off(req: &MessagesRequest) -> bool {
    req.thinking
        .as_ref()
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        == Some("disabled")
}

/// `output_config.format`'s JSON schema as a native `format`, which the
/// engine enforces with a grammar.
fn output_format(req: &MessagesRequest) -> Option<Value> {
    let format = req.output_config.as_ref()?.get("format")?;
    (format.get("type").and_then(Value::as_str) == Some("json_schema"))
        .then(|| format.get("schema").cloned().unwrap_or(json!("json")))
}

/// Tools in native shape, narrowed by `tool_choice`.
fn tools(req: &MessagesRequest) -> Vec<Tool> {
    let tools = req
        .tools
        .iter()
        .map(|t| Tool {
            kind: "function".into(),
            items: None,
            function: ToolFunction {
                name: t.name.clone(),
                description: t.description.clone().unwrap_or_default(),
                parameters: t.input_schema.clone(),
            },
        })
        .collect();
    ToolChoice::anthropic(req.tool_choice.as_ref()).apply(tools)
}

/// Native options: only what the request sets (Anthropic has no defaults
/// to impose over the model's), plus the required token budget.
fn options(req: &MessagesRequest, max_tokens: i64) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("num_predict".into(), json!(max_tokens));
    if let Some(t) = req.temperature {
        o.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        o.insert("top_p".into(), json!(p));
    }
    if let Some(k) = req.top_k {
        o.insert("top_k".into(), json!(k));
    }
    if !req.stop_sequences.is_empty() {
        o.insert("stop".into(), json!(req.stop_sequences));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(v: Value) -> MessagesRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn translates_system_blocks_and_tools() {
        let native = to_native(&request(json!({
            "model": "m", "max_tokens": 5, "system": [{"type": "text", "text": "be brief"}],
            "stop_sequences": ["END"], "temperature": 0,
            "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "42"}]}]}
            ]
        })))
        .unwrap();
        let roles: Vec<&str> = native.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "tool"]);
        assert_eq!(native.messages[2].tool_calls[0].function.arguments["x"], 1);
        assert_eq!(native.messages[3].tool_name, "f");
        assert_eq!(native.messages[3].content, "42");
        let options = native.options.unwrap();
        assert_eq!(options["num_predict"], 5);
        assert_eq!(options["stop"], json!(["END"]));
        assert_eq!(
            native.tools[0].function.parameters,
            json!({"type": "object"})
        );
    }

    #[test]
    fn refuses_what_anthropic_refuses() {
        let err = to_native(&request(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
        ));
        assert_eq!(err.unwrap_err().message, "max_tokens: Field required");
        let err = to_native(&request(
            json!({"model": "m", "max_tokens": 1, "messages": []}),
        ));
        assert_eq!(
            err.unwrap_err().message,
            "messages: at least one message is required"
        );
    }
}
