//! OpenAI chat messages → native messages: content strings or part arrays
//! (text, base64 images, audio), assistant tool calls with JSON-string
//! arguments, and tool results matched to the call they answer.

use std::collections::HashMap;

use hearth_api::openai::{ChatMessage, ChatToolCall};
use hearth_api::{Message, ToolCall, ToolCallFunction};
use serde_json::{Map, Value};

use super::request::go_type;
use crate::error::ApiError;

/// The native conversation for `messages`.
pub fn to_native(messages: &[ChatMessage]) -> Result<Vec<Message>, ApiError> {
    // Tool results name their call by id; native templates want the
    // function's name, so remember the calls seen so far.
    let mut call_names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let native = convert(m, &call_names)?;
        for call in &native.tool_calls {
            call_names.insert(call.id.clone(), call.function.name.clone());
        }
        out.push(native);
    }
    Ok(out)
}

fn convert(m: &ChatMessage, call_names: &HashMap<String, String>) -> Result<Message, ApiError> {
    let role = match m.role.to_lowercase().as_str() {
        // OpenAI's newer name for instructions to the model.
        "developer" => "system".to_string(),
        other => other.to_string(),
    };
    let (content, images) = content(m.content.as_ref(), !m.tool_calls.is_empty())?;
    let mut native = Message::new(role, content);
    native.images = images;
    native.thinking = m.reasoning.clone().unwrap_or_default();
    native.tool_calls = m
        .tool_calls
        .iter()
        .enumerate()
        .map(|(i, c)| tool_call(i, c))
        .collect::<Result<_, _>>()?;
    if native.role == "tool" {
        let id = m.tool_call_id.clone().unwrap_or_default();
        native.tool_name = m
            .name
            .clone()
            .or_else(|| call_names.get(&id).cloned())
            .unwrap_or_default();
        native.tool_call_id = id;
    }
    Ok(native)
}

/// Text and base64 images of a message's `content`. `null` is allowed only
/// on an assistant turn that calls tools.
fn content(content: Option<&Value>, has_calls: bool) -> Result<(String, Vec<String>), ApiError> {
    match content {
        None if has_calls => Ok((String::new(), Vec::new())),
        Some(Value::String(s)) => Ok((s.clone(), Vec::new())),
        Some(Value::Array(parts)) => parts_content(parts),
        other => Err(ApiError::bad_request(format!(
            "invalid message content type: {}",
            other.map_or("<nil>", go_type)
        ))),
    }
}

/// Text parts are joined into one message (a line apart) with the images
/// attached, so templates see one turn, not one turn per part.
fn parts_content(parts: &[Value]) -> Result<(String, Vec<String>), ApiError> {
    let mut texts: Vec<&str> = Vec::new();
    let mut images = Vec::new();
    for part in parts {
        match part.get("type").and_then(Value::as_str) {
            Some("text") => texts.push(part.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("image_url") => images.push(image(part.get("image_url"))?),
            Some("input_audio") => images.push(audio(part.get("input_audio"))?),
            _ => return Err(ApiError::bad_request("invalid message format")),
        }
    }
    Ok((texts.join("\n"), images))
}

/// The base64 payload of an `image_url` part (a string or `{"url"}`).
/// Only data URIs are taken: the server fetches nothing.
pub(super) fn image(image_url: Option<&Value>) -> Result<String, ApiError> {
    let url = match image_url {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o.get("url").and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(ApiError::bad_request(
            "image URLs are not currently supported, please use base64 encoded data instead",
        ));
    }
    const TYPES: [&str; 5] = [
        "data:image/jpeg;base64,",
        "data:image/jpg;base64,",
        "data:image/png;base64,",
        "data:image/webp;base64,",
        "data:;base64,",
    ];
    TYPES
        .iter()
        .find_map(|prefix| url.strip_prefix(prefix))
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request("invalid image input"))
}

/// The base64 data of an `input_audio` part; audio travels with images
/// natively.
fn audio(input_audio: Option<&Value>) -> Result<String, ApiError> {
    input_audio
        .and_then(|a| a.get("data"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request("invalid message format"))
}

/// An earlier assistant tool call; its `arguments` must be JSON text of an
/// object (an empty string counts as `{}`).
fn tool_call(index: usize, call: &ChatToolCall) -> Result<ToolCall, ApiError> {
    let invalid = || ApiError::bad_request("invalid tool call arguments");
    let arguments = match &call.function.arguments {
        Value::String(s) if s.trim().is_empty() => Map::new(),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => map,
            _ => return Err(invalid()),
        },
        _ => return Err(invalid()),
    };
    Ok(ToolCall {
        id: call.id.clone(),
        function: ToolCallFunction {
            index,
            name: call.function.name.clone(),
            arguments,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(v: Value) -> Vec<ChatMessage> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn parts_join_into_one_message_with_images() {
        let out = to_native(&messages(json!([{"role": "User", "content": [
            {"type": "text", "text": "a"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "text", "text": "b"}]}])))
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].role, "user");
        assert_eq!(out[0].content, "a\nb");
        assert_eq!(out[0].images, vec!["AAAA"]);
    }

    #[test]
    fn refusals_use_ollama_s_texts() {
        let err = |v| to_native(&messages(v)).unwrap_err().message;
        assert_eq!(
            err(
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": "http://x/y.png"}]}])
            ),
            "image URLs are not currently supported, please use base64 encoded data instead"
        );
        assert_eq!(
            err(
                json!([{"role": "user", "content": [{"type": "image_url", "image_url": "ftp://x"}]}])
            ),
            "invalid image input"
        );
        assert_eq!(
            err(json!([{"role": "user", "content": [{"type": "video"}]}])),
            "invalid message format"
        );
        assert_eq!(
            err(json!([{"role": "user", "content": null}])),
            "invalid message content type: <nil>"
        );
        assert_eq!(
            err(
                json!([{"role": "assistant", "content": null, "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}])
            ),
            "invalid tool call arguments"
        );
    }

    #[test]
    fn tool_results_name_their_call() {
        let out = to_native(&messages(json!([
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "developer", "content": "be brief"}
        ])))
        .unwrap();
        assert_eq!(out[1].tool_calls[0].function.arguments["city"], "Oslo");
        assert_eq!(out[2].tool_name, "get_weather");
        assert_eq!(out[2].tool_call_id, "call_1");
        assert_eq!(out[3].role, "system");
    }
}
