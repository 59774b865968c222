//! Anthropic's Messages API (`POST /v1/messages`) end to end with the tiny
//! model: the message shape, the strict event stream, tool use, and errors
//! in Anthropic's envelope.
//!
//! The tiny model never ends a turn by itself, so with temperature 0 every
//! answer runs to `max_tokens` (`stop_reason: "max_tokens"`).

use hearth_e2e::sse;
use hearth_e2e::Server;
use serde_json::{json, Value};

async fn with_tiny() -> Server {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    s
}

fn request(max_tokens: u64) -> Value {
    json!({"model": "tiny", "max_tokens": max_tokens, "temperature": 0, "system": "Be brief.",
           "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]})
}

fn assert_anthropic_error(body: &Value, kind: &str, message: &str) {
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
}

#[tokio::test]
async fn message_shape() {
    let s = with_tiny().await;
    let resp = s
        .client
        .post(s.url("/v1/messages"))
        .header("x-api-key", "anything")
        .header("anthropic-version", "2023-06-01")
        .json(&request(5))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "tiny");
    assert_eq!(body["content"][0]["type"], "text");
    assert!(body["content"][0]["text"].is_string());
    assert_eq!(body["stop_reason"], "max_tokens");
    assert!(body["stop_sequence"].is_null());
    assert_eq!(body["usage"]["output_tokens"], 5);
    assert!(body["usage"]["input_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn stream_events_in_order() {
    let s = with_tiny().await;
    let (_, whole) = s.post("/v1/messages", request(6)).await;
    let mut req = request(6);
    req["stream"] = json!(true);
    let (status, ctype, text) = s.post_text("/v1/messages", req).await;
    assert_eq!(status, 200, "{text}");
    assert!(ctype.starts_with("text/event-stream"));
    let events = sse::parse(&text);
    for e in &events {
        assert!(!e.is_done(), "no [DONE] in Anthropic streams");
        assert_eq!(e.name.as_deref(), e.data["type"].as_str(), "{text}");
    }
    let kinds: Vec<&str> = events.iter().map(|e| e.name.as_deref().unwrap()).collect();
    assert_eq!(kinds[..3], ["message_start", "ping", "content_block_start"]);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert!(kinds[3..kinds.len() - 3]
        .iter()
        .all(|k| *k == "content_block_delta"));
    let start = &events[0].data["message"];
    assert_eq!(start["content"], json!([]));
    assert!(start["stop_reason"].is_null());
    assert_eq!(start["id"].as_str().unwrap().len(), "msg_".len() + 24);
    let text: String = events
        .iter()
        .filter(|e| e.data["type"] == "content_block_delta")
        .map(|e| {
            assert_eq!(e.data["delta"]["type"], "text_delta");
            e.data["delta"]["text"].as_str().unwrap()
        })
        .collect();
    assert_eq!(text, whole["content"][0]["text"].as_str().unwrap());
    let delta = &events[events.len() - 2].data;
    assert_eq!(delta["delta"]["stop_reason"], "max_tokens");
    assert_eq!(delta["usage"]["output_tokens"], 6);
}

#[tokio::test]
async fn stop_sequences_are_reported() {
    let s = with_tiny().await;
    let (_, whole) = s.post("/v1/messages", request(12)).await;
    let text = whole["content"][0]["text"].as_str().unwrap().to_string();
    // A piece from the middle of the greedy answer stops it right there.
    let start = text.char_indices().nth(3).map_or(0, |(i, _)| i);
    let stop: String = text[start..].chars().take(2).collect();
    let before = &text[..text.find(&stop).unwrap()];
    let mut req = request(12);
    req["stop_sequences"] = json!([stop]);
    let (status, body) = s.post("/v1/messages", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["stop_reason"], "stop_sequence",
        "{body} (stop {stop:?})"
    );
    assert_eq!(body["stop_sequence"], stop.as_str());
    assert_eq!(body["content"][0]["text"], before);

    req["stream"] = json!(true);
    let (_, _, streamed) = s.post_text("/v1/messages", req).await;
    let events = sse::parse(&streamed);
    let delta = &events[events.len() - 2].data["delta"];
    assert_eq!(delta["stop_reason"], "stop_sequence");
    assert_eq!(delta["stop_sequence"], stop.as_str());
}

#[tokio::test]
async fn thinking_blocks() {
    let s = with_tiny().await;
    let template = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ if .Think }}<think>\n{{ end }}";
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "thinker", "from": "tiny", "template": template, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut req = request(6);
    req["model"] = json!("thinker");
    let (status, body) = s.post("/v1/messages", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    let thinking = body["content"][0]["thinking"].as_str().unwrap();
    assert_eq!(body["content"][0]["type"], "thinking", "{body}");
    assert!(!thinking.is_empty());

    let mut streamed = req.clone();
    streamed["stream"] = json!(true);
    let (_, _, text) = s.post_text("/v1/messages", streamed).await;
    let events = sse::parse(&text);
    assert_eq!(
        events[2].data["content_block"]["type"], "thinking",
        "{text}"
    );
    let deltas: String = events
        .iter()
        .filter(|e| e.data["delta"]["type"] == "thinking_delta")
        .map(|e| e.data["delta"]["thinking"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, thinking);
    assert_eq!(events.last().unwrap().data["type"], "message_stop");

    // `thinking: disabled` turns it off; asking a non-thinking model to
    // think is not an error.
    let mut off = req;
    off["thinking"] = json!({"type": "disabled"});
    let (_, body) = s.post("/v1/messages", off).await;
    assert_eq!(body["content"][0]["type"], "text", "{body}");
    let mut on = request(2);
    on["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    assert_eq!(s.post("/v1/messages", on).await.0, 200);
}

#[tokio::test]
async fn tool_use_from_a_forced_call() {
    let s = with_tiny().await;
    let template = r#"{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}{{ if .Tools }}Tools: {{ json .Tools }}{{ end }}<|im_start|>assistant
"#;
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "tooly", "from": "tiny", "template": template, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let call = json!({"type": "object", "required": ["name", "arguments"], "additionalProperties": false,
        "properties": {"name": {"const": "get_weather"},
            "arguments": {"type": "object", "required": ["city"], "additionalProperties": false,
                          "properties": {"city": {"enum": ["Paris", "Tokyo"]}}}}});
    let req = json!({"model": "tooly", "max_tokens": 256, "temperature": 0,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [{"name": "get_weather", "description": "Weather in a city",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "output_config": {"format": {"type": "json_schema", "schema": call}}});
    let (status, body) = s.post("/v1/messages", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stop_reason"], "tool_use", "{body}");
    let block = body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .expect("a tool_use block");
    assert_eq!(block["name"], "get_weather");
    assert!(block["input"]["city"].is_string());

    // The result goes back as a tool_result block.
    let mut next = req;
    next["output_config"] = Value::Null;
    next["max_tokens"] = json!(2);
    let messages = next["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": [block]}));
    messages.push(json!({"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": block["id"], "content": "sunny"}]}));
    let (status, body) = s.post("/v1/messages", next).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn errors_use_anthropic_envelope() {
    let s = with_tiny().await;
    let mut req = request(2);
    req["model"] = json!("nope");
    let (status, body) = s.post("/v1/messages", req).await;
    assert_eq!(status, 404);
    assert_anthropic_error(&body, "not_found_error", "model 'nope' not found");

    let mut req = request(2);
    req.as_object_mut().unwrap().remove("max_tokens");
    let (status, body) = s.post("/v1/messages", req).await;
    assert_eq!(status, 400);
    assert_anthropic_error(&body, "invalid_request_error", "max_tokens: Field required");

    let mut req = request(2);
    req["messages"] = json!([{"role": "user", "content": [{"type": "image",
        "source": {"type": "url", "url": "https://example.com/a.png"}}]}]);
    let (status, body) = s.post("/v1/messages", req).await;
    assert_eq!(status, 400);
    assert_anthropic_error(
        &body,
        "invalid_request_error",
        "image URLs are not currently supported, please use base64 encoded data instead",
    );

    let (status, body) = s.post_raw("/v1/messages", "").await;
    assert_eq!(status, 400);
    assert_anthropic_error(&body, "invalid_request_error", "missing request body");
}
