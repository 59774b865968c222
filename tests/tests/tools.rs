//! Tool calls end to end: tools render through a Go template, the model's
//! answer (forced into a call's shape by a JSON-schema grammar, since the
//! tiny model has no skills) comes back as `message.tool_calls`, and the
//! tool result goes back in for the next turn.

use hearth_e2e::tools::{call_schema, weather_tool, TOOL_TEMPLATE};
use hearth_e2e::Server;
use serde_json::{json, Value};

fn tools() -> Value {
    json!([weather_tool()])
}

async fn server() -> Server {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "tooly", "from": "tiny", "template": TOOL_TEMPLATE, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s
}

#[tokio::test]
async fn tool_call_round_trip() {
    let s = server().await;
    let ask = json!({"role": "user", "content": "Weather in Paris?"});
    let req = json!({"model": "tooly", "stream": false, "tools": tools(), "format": call_schema(),
                     "messages": [ask], "options": {"temperature": 0, "num_predict": 256}});
    let (status, body) = s.post("/api/chat", req).await;
    assert_eq!(status, 200, "{body}");
    let msg = &body["message"];
    assert_eq!(msg["content"], "", "{body}");
    let call = &msg["tool_calls"][0];
    let id = call["id"].as_str().unwrap();
    assert!(
        id.starts_with("call_")
            && id.len() == 13
            && id[5..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(call["function"]["index"], 0);
    assert_eq!(call["function"]["name"], "get_weather");
    let city = call["function"]["arguments"]["city"].as_str().unwrap();
    assert!(city == "Paris" || city == "Tokyo");

    // Streamed: the call arrives in its own chunk with empty content.
    let (_, _, lines) = s
        .stream(
            "/api/chat",
            json!({"model": "tooly", "tools": tools(), "format": call_schema(), "messages": [ask],
                                    "options": {"temperature": 0, "num_predict": 256}}),
        )
        .await;
    let with_calls: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"]["tool_calls"].is_array())
        .collect();
    assert_eq!(with_calls.len(), 1, "{lines:?}");
    assert_eq!(with_calls[0]["message"]["content"], "");
    assert_eq!(lines.last().unwrap()["done"], true);

    // The result goes back as a tool message and renders.
    let follow = json!({"model": "tooly", "stream": false, "tools": tools(), "options": {"temperature": 0, "num_predict": 4},
        "messages": [ask, msg, {"role": "tool", "content": "18 degrees", "tool_name": "get_weather", "tool_call_id": id}]});
    let (status, body) = s.post("/api/chat", follow).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["done"], true);
}

#[tokio::test]
async fn tools_need_a_template_that_knows_them() {
    let s = server().await;
    let (status, body) = s
        .post("/api/chat", json!({"model": "tiny", "tools": tools(), "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "registry.ollama.ai/library/tiny:latest does not support tools"
    );
    // Without `tools` in the request, calls are not aggregated.
    let (_, body) = s
        .post("/api/chat", json!({"model": "tooly", "stream": false, "format": call_schema(),
                                  "messages": [{"role": "user", "content": "x"}], "options": {"num_predict": 256, "temperature": 0}}))
        .await;
    assert!(body["message"].get("tool_calls").is_none(), "{body}");
    assert!(body["message"]["content"]
        .as_str()
        .unwrap()
        .contains("get_weather"));
}
