//! The OpenAI-compatible API (`/v1`) end to end with the tiny model: chat
//! completions (plain, streamed, structured, tool calls), completions,
//! models and responses, every stream through a strict SSE parser, and
//! errors in OpenAI's envelope.
//!
//! The tiny model never ends a turn by itself, so with temperature 0 every
//! answer runs to its token budget (`finish_reason: "length"`).

use hearth_e2e::sse::{self, Event};
use hearth_e2e::tools::{call_schema, weather_tool, TOOL_TEMPLATE};
use hearth_e2e::Server;
use serde_json::{json, Value};

async fn with_tiny() -> Server {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    s
}

fn chat(max_tokens: u64) -> Value {
    json!({"model": "tiny", "messages": [{"role": "user", "content": "Hello"}],
           "max_tokens": max_tokens, "temperature": 0})
}

/// Streams `body` to `path`, checks the SSE framing, and returns the events
/// before `[DONE]` (which must come last, exactly once).
async fn openai_stream(s: &Server, path: &str, body: Value) -> Vec<Value> {
    let (status, ctype, text) = s.post_text(path, body).await;
    assert_eq!(status, 200, "{text}");
    assert!(ctype.starts_with("text/event-stream"), "{ctype}");
    let events = sse::parse(&text);
    let (last, rest) = events.split_last().expect("events");
    assert!(last.is_done(), "[DONE] is not last: {text}");
    rest.iter()
        .map(|e: &Event| {
            assert!(e.name.is_none() && !e.is_done(), "{text}");
            e.data.clone()
        })
        .collect()
}

fn assert_openai_error(body: &Value, kind: &str, message: &str) {
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
    let e = body["error"].as_object().unwrap();
    assert!(e.contains_key("param") && e.contains_key("code"), "{body}");
}

#[tokio::test]
async fn chat_completion_shape_and_usage() {
    let s = with_tiny().await;
    let (status, body) = s.post("/v1/chat/completions", chat(5)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["system_fingerprint"], "fp_ollama");
    assert_eq!(body["model"], "tiny");
    assert!(body["created"].as_i64().unwrap() > 1_600_000_000);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(choice["message"]["content"].is_string());
    assert_eq!(choice["finish_reason"], "length");
    let usage = &body["usage"];
    assert_eq!(usage["completion_tokens"], 5);
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["prompt_tokens"].as_u64().unwrap() + 5)
    );

    // Content parts, a system message, the newer token-limit name and
    // array stops all translate.
    let mut req = json!({"model": "tiny", "max_completion_tokens": 3, "temperature": 0, "stop": ["zzz", 1],
        "seed": 7, "presence_penalty": 0.5, "n": 1,
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}]}]});
    let (status, body) = s.post("/v1/chat/completions", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["usage"]["completion_tokens"], 3);

    // A base64 image reaches the native checks: the tiny model cannot see.
    req["messages"][1]["content"][1] =
        json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}});
    let (status, body) = s.post("/v1/chat/completions", req).await;
    assert_eq!(status, 400, "{body}");
    assert_openai_error(
        &body,
        "invalid_request_error",
        "registry.ollama.ai/library/tiny:latest does not support vision",
    );
}

/// A model whose template opens a `<think>` block: everything the tiny
/// model generates after it is reasoning.
const THINK_TEMPLATE: &str = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ if .Think }}<think>\n{{ end }}";

#[tokio::test]
async fn reasoning_and_logprobs() {
    let s = with_tiny().await;
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "thinker", "from": "tiny", "template": THINK_TEMPLATE, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut req = chat(6);
    req["model"] = json!("thinker");
    let (status, body) = s.post("/v1/chat/completions", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    let reasoning = body["choices"][0]["message"]["reasoning"]
        .as_str()
        .unwrap_or("");
    assert!(!reasoning.is_empty(), "{body}");

    let mut streamed = req.clone();
    streamed["stream"] = json!(true);
    let chunks = openai_stream(&s, "/v1/chat/completions", streamed).await;
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning"].as_str())
        .collect();
    assert_eq!(text, reasoning);

    // The Responses API puts it in a reasoning item before the message.
    let resp =
        json!({"model": "thinker", "input": "Hello", "max_output_tokens": 6, "temperature": 0});
    let (status, body) = s.post("/v1/responses", resp.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output"][0]["type"], "reasoning", "{body}");
    assert_eq!(body["output"][0]["summary"][0]["type"], "summary_text");
    assert_eq!(body["output"][0]["summary"][0]["text"], reasoning);
    assert_eq!(body["output"][1]["type"], "message", "{body}");
    let mut streamed = resp;
    streamed["stream"] = json!(true);
    let (_, _, text) = s.post_text("/v1/responses", streamed).await;
    let events = sse::parse(&text);
    let summary: String = events
        .iter()
        .filter(|e| e.data["type"] == "response.reasoning_summary_text.delta")
        .map(|e| e.data["delta"].as_str().unwrap())
        .collect();
    assert_eq!(summary, reasoning);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.data["sequence_number"], i as u64, "{text}");
    }
    let done = &events.last().unwrap().data;
    assert_eq!(done["type"], "response.completed");
    assert_eq!(done["response"]["output"][0]["type"], "reasoning");
    assert_eq!(done["response"]["output"][1]["type"], "message");

    // reasoning_effort "none" turns thinking off.
    let mut off = req;
    off["reasoning_effort"] = json!("none");
    let (_, body) = s.post("/v1/chat/completions", off).await;
    assert!(
        body["choices"][0]["message"].get("reasoning").is_none(),
        "{body}"
    );
    assert!(!body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .is_empty());

    // Log probabilities: one entry per token, with the asked alternatives.
    let mut req = chat(4);
    req["logprobs"] = json!(true);
    req["top_logprobs"] = json!(2);
    let (status, body) = s.post("/v1/chat/completions", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    let content = body["choices"][0]["logprobs"]["content"]
        .as_array()
        .unwrap();
    assert_eq!(content.len(), 4, "{body}");
    for entry in content {
        assert!(entry["token"].is_string() && entry["logprob"].as_f64().unwrap() <= 0.0);
        assert_eq!(
            entry["top_logprobs"].as_array().unwrap().len(),
            2,
            "{entry}"
        );
    }
    req["stream"] = json!(true);
    let chunks = openai_stream(&s, "/v1/chat/completions", req).await;
    let streamed: usize = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["logprobs"]["content"].as_array())
        .map(Vec::len)
        .sum();
    assert_eq!(streamed, 4);
    let (_, body) = s.post("/v1/chat/completions", chat(2)).await;
    assert!(
        body["choices"][0].get("logprobs").is_none(),
        "only when asked: {body}"
    );
}

#[tokio::test]
async fn chat_stream_is_strict_sse() {
    let s = with_tiny().await;
    let (_, whole) = s.post("/v1/chat/completions", chat(6)).await;
    let mut req = chat(6);
    req["stream"] = json!(true);
    req["stream_options"] = json!({"include_usage": true});
    let chunks = openai_stream(&s, "/v1/chat/completions", req).await;
    assert!(chunks.len() >= 3, "{chunks:?}");
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for c in &chunks {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["id"], id);
        assert_eq!(c["created"], chunks[0]["created"]);
        assert_eq!(c["system_fingerprint"], "fp_ollama");
    }
    let (usage, rest) = chunks.split_last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 6);
    let (finish, deltas) = rest.split_last().unwrap();
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    assert_eq!(deltas[0]["choices"][0]["delta"]["role"], "assistant");
    let mut text = String::new();
    for (i, d) in deltas.iter().enumerate() {
        let choice = &d["choices"][0];
        assert!(choice["finish_reason"].is_null(), "{d}");
        assert_eq!(choice["delta"].get("role").is_some(), i == 0, "{d}");
        text.push_str(choice["delta"]["content"].as_str().unwrap());
        assert!(d.get("usage").is_none(), "{d}");
    }
    assert_eq!(
        text,
        whole["choices"][0]["message"]["content"].as_str().unwrap()
    );

    // Without include_usage there is no usage chunk.
    let mut req = chat(2);
    req["stream"] = json!(true);
    let chunks = openai_stream(&s, "/v1/chat/completions", req).await;
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "length"
    );
}

#[tokio::test]
async fn chat_errors_use_openai_envelope() {
    let s = with_tiny().await;
    let mut req = chat(2);
    req["model"] = json!("nope");
    let (status, body) = s.post("/v1/chat/completions", req).await;
    assert_eq!(status, 404);
    assert_openai_error(&body, "not_found_error", "model 'nope' not found");

    let (status, body) = s
        .post(
            "/v1/chat/completions",
            json!({"model": "tiny", "messages": []}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"message": "[] is too short - 'messages'", "type": "invalid_request_error", "param": null, "code": null}})
    );

    let cases = [
        (
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}]}]}),
            "image URLs are not currently supported, please use base64 encoded data instead",
        ),
        (
            json!({"reasoning_effort": "bogus"}),
            r#"invalid reasoning value: "bogus" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")"#,
        ),
        (
            json!({"n": 2}),
            "n must be 1: Hearth generates one choice per request",
        ),
        (
            json!({"response_format": {"type": "xml"}}),
            r#"invalid response_format type: "xml" (must be "text", "json_object" or "json_schema")"#,
        ),
    ];
    for (patch, message) in cases {
        let mut req = chat(2);
        req.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        let (status, body) = s.post("/v1/chat/completions", req).await;
        assert_eq!(status, 400, "{body}");
        assert_openai_error(&body, "invalid_request_error", message);
    }

    // reasoning_effort "none" turns thinking off, which every model allows.
    let mut req = chat(1);
    req["reasoning_effort"] = json!("none");
    assert_eq!(s.post("/v1/chat/completions", req).await.0, 200);

    let (status, body) = s.post_raw("/v1/chat/completions", "{\"model\":").await;
    assert_eq!(status, 400);
    assert_openai_error(&body, "invalid_request_error", "unexpected EOF");
}

#[tokio::test]
async fn chat_response_format_constrains_output() {
    let s = with_tiny().await;
    let schema = json!({"type": "object", "additionalProperties": false, "required": ["color", "ok"],
        "properties": {"color": {"type": "string", "enum": ["red", "green", "blue"]}, "ok": {"type": "boolean"}}});
    let mut req = chat(300);
    req["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "c", "strict": true, "schema": schema}});
    let (status, body) = s.post("/v1/chat/completions", req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "stop", "{body}");
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert!(["red", "green", "blue"].contains(&v["color"].as_str().unwrap()));
    assert!(v["ok"].is_boolean());

    // Any JSON value: it parses when complete, else it starts like JSON.
    let mut req = chat(40);
    req["response_format"] = json!({"type": "json_object"});
    let (status, body) = s.post("/v1/chat/completions", req).await;
    assert_eq!(status, 200, "{body}");
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    if body["choices"][0]["finish_reason"] == "stop" {
        serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    } else {
        let first = text.trim_start().chars().next().expect("some output");
        assert!("{[\"-0123456789tfn".contains(first), "{text:?}");
    }
}

/// A model whose template renders tools, and a request whose JSON schema
/// forces the tiny model's answer into a call of `get_weather`.
async fn tool_request(s: &Server) -> Value {
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "tooly", "from": "tiny", "template": TOOL_TEMPLATE, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let call = call_schema();
    json!({"model": "tooly", "temperature": 0, "max_tokens": 256,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [weather_tool()],
        "response_format": {"type": "json_schema", "json_schema": {"name": "call", "schema": call}}})
}

#[tokio::test]
async fn chat_tool_calls_round_trip() {
    let s = with_tiny().await;
    let req = tool_request(&s).await;
    let (status, body) = s.post("/v1/chat/completions", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{body}");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(args["city"].is_string());

    // tool_choice "none" hides the tools: the same text is only text.
    let mut hidden = req.clone();
    hidden["tool_choice"] = json!("none");
    let (status, body) = s.post("/v1/chat/completions", hidden).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "stop", "{body}");
    assert!(
        body["choices"][0]["message"].get("tool_calls").is_none(),
        "{body}"
    );

    // Streamed: the calls arrive as a delta with index, id and type.
    let mut streamed = req.clone();
    streamed["stream"] = json!(true);
    let chunks = openai_stream(&s, "/v1/chat/completions", streamed).await;
    let delta = chunks
        .iter()
        .find_map(|c| c["choices"][0]["delta"].get("tool_calls"))
        .expect("a tool_calls delta");
    assert_eq!(delta[0]["index"], 0);
    assert_eq!(delta[0]["type"], "function");
    assert!(delta[0]["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );

    // The result goes back in by call id; the next turn runs.
    let mut next = req;
    next["response_format"] = Value::Null;
    next["max_tokens"] = json!(2);
    let messages = next["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny"}));
    let (status, body) = s.post("/v1/chat/completions", next.clone()).await;
    assert_eq!(status, 200, "{body}");

    // Arguments must be JSON text of an object.
    next["messages"][1]["tool_calls"][0]["function"]["arguments"] = json!("not json");
    let (status, body) = s.post("/v1/chat/completions", next).await;
    assert_eq!(status, 400);
    assert_openai_error(
        &body,
        "invalid_request_error",
        "invalid tool call arguments",
    );
}

#[tokio::test]
async fn completions_plain_streamed_and_refused() {
    let s = with_tiny().await;
    let req = json!({"model": "tiny", "prompt": "Once upon", "max_tokens": 4, "temperature": 0});
    let (status, body) = s.post("/v1/completions", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["system_fingerprint"], "fp_ollama");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["completion_tokens"], 4);
    let whole = body["choices"][0]["text"].as_str().unwrap().to_string();

    let mut streamed = req.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let chunks = openai_stream(&s, "/v1/completions", streamed).await;
    let (usage, rest) = chunks.split_last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 4);
    assert!(rest.iter().all(|c| c["object"] == "text_completion"));
    let (finish, texts) = rest.split_last().unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    let text: String = texts
        .iter()
        .map(|c| c["choices"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, whole);

    let mut echo = req.clone();
    echo["echo"] = json!(true);
    let (_, body) = s.post("/v1/completions", echo).await;
    assert_eq!(body["choices"][0]["text"], format!("Once upon{whole}"));

    let (status, body) = s
        .post(
            "/v1/completions",
            json!({"model": "tiny", "prompt": ["a", "b"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, body) = s
        .post(
            "/v1/completions",
            json!({"model": "tiny", "prompt": "a", "stop": ["x", 1.5]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_openai_error(
        &body,
        "invalid_request_error",
        "invalid type for 'stop' field: float64",
    );
    let (status, body) = s
        .post("/v1/completions", json!({"model": "nope", "prompt": "a"}))
        .await;
    assert_eq!(status, 404);
    assert_openai_error(&body, "not_found_error", "model 'nope' not found");
}

#[tokio::test]
async fn models_list_and_retrieve() {
    let s = Server::start().await;
    let (status, body) = s.get("/v1/models").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"object": "list", "data": []}));
    s.create_tiny("tiny").await;
    let (_, body) = s.get("/v1/models").await;
    let model = &body["data"][0];
    assert_eq!(model["id"], "tiny:latest");
    assert_eq!(model["object"], "model");
    assert_eq!(model["owned_by"], "library");
    assert!(model["created"].as_i64().unwrap() > 1_600_000_000);
    let (status, body) = s.get("/v1/models/tiny:latest").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "tiny:latest");
    assert_eq!(body["created"], model["created"]);
    let (_, body) = s.get("/v1/models/tiny").await;
    assert_eq!(body["id"], "tiny", "the id is echoed as given");
    let (status, body) = s.get("/v1/models/nope:1b").await;
    assert_eq!(status, 404);
    assert_openai_error(&body, "not_found_error", "model 'nope:1b' not found");
    assert_eq!(s.get("/v1/models/user/x").await.0, 404);
}

#[tokio::test]
async fn responses_plain_and_streamed() {
    let s = with_tiny().await;
    let req = json!({"model": "tiny", "input": "Hello", "instructions": "Be brief.",
                     "max_output_tokens": 4, "temperature": 0});
    let (status, body) = s.post("/v1/responses", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["instructions"], "Be brief.");
    let out = &body["output"][0];
    assert_eq!(out["type"], "message");
    assert_eq!(out["role"], "assistant");
    assert_eq!(out["content"][0]["type"], "output_text");
    let whole = out["content"][0]["text"].as_str().unwrap().to_string();
    assert_eq!(body["usage"]["output_tokens"], 4);

    let mut streamed = req;
    streamed["stream"] = json!(true);
    let (status, ctype, text) = s.post_text("/v1/responses", streamed).await;
    assert_eq!(status, 200, "{text}");
    assert!(ctype.starts_with("text/event-stream"));
    let events = sse::parse(&text);
    for (i, e) in events.iter().enumerate() {
        assert!(!e.is_done(), "the Responses API has no [DONE]");
        assert_eq!(e.name.as_deref(), e.data["type"].as_str(), "{text}");
        assert_eq!(e.data["sequence_number"], i as u64, "{text}");
    }
    let kinds: Vec<&str> = events.iter().map(|e| e.name.as_deref().unwrap()).collect();
    assert_eq!(
        kinds[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let deltas: String = events
        .iter()
        .filter(|e| e.data["type"] == "response.output_text.delta")
        .map(|e| e.data["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, whole);
    let done = &events.last().unwrap().data["response"];
    assert_eq!(done["output"][0]["content"][0]["text"], whole.as_str());
    assert_eq!(done["usage"]["output_tokens"], 4);

    // Item arrays, and the refusals.
    let items = json!({"model": "tiny", "max_output_tokens": 2, "temperature": 0, "input": [
        {"role": "developer", "content": "Be brief."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]});
    assert_eq!(s.post("/v1/responses", items).await.0, 200);
    let (status, body) = s
        .post("/v1/responses", json!({"model": "tiny", "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}))
        .await;
    assert_eq!(status, 400);
    assert_openai_error(
        &body,
        "invalid_request_error",
        "file inputs are not currently supported",
    );
    let (status, body) = s
        .post("/v1/responses", json!({"model": "nope", "input": "x"}))
        .await;
    assert_eq!(status, 404);
    assert_openai_error(&body, "not_found_error", "model 'nope' not found");
}

#[tokio::test]
async fn tool_choice_required_or_named_forces_a_call() {
    let s = with_tiny().await;
    let mut req = tool_request(&s).await;
    req.as_object_mut().unwrap().remove("response_format");
    let add = json!({"type": "function", "function": {"name": "add", "description": "Adds",
        "parameters": {"type": "object", "required": ["a", "b"], "additionalProperties": false,
                       "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 9},
                                      "b": {"type": "integer", "minimum": 0, "maximum": 9}}}}});
    req["tools"] = json!([weather_tool(), add]);
    for (choice, expected) in [
        (json!("required"), None),
        (
            json!({"type": "function", "function": {"name": "add"}}),
            Some("add"),
        ),
        (
            json!({"type": "function", "function": {"name": "get_weather"}}),
            Some("get_weather"),
        ),
    ] {
        req["tool_choice"] = choice.clone();
        let (status, body) = s.post("/v1/chat/completions", req.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["choices"][0]["finish_reason"], "tool_calls",
            "{choice}: {body}"
        );
        let call = &body["choices"][0]["message"]["tool_calls"][0]["function"];
        let name = call["name"].as_str().unwrap();
        if let Some(expected) = expected {
            assert_eq!(name, expected);
        }
        let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
        match name {
            "add" => assert!(args["a"].is_i64() && args["b"].is_i64(), "{args}"),
            _ => assert!(
                ["Paris", "Tokyo"].contains(&args["city"].as_str().unwrap()),
                "{args}"
            ),
        }
    }
    // "none" hides the tools: no call can come back.
    req["tool_choice"] = json!("none");
    let (_, body) = s.post("/v1/chat/completions", req).await;
    assert!(
        body["choices"][0]["message"]
            .get("tool_calls")
            .is_none_or(|c| c.is_null()),
        "{body}"
    );
}
