//! Structured output: `format: "json"` and `format: <JSON schema>` are
//! enforced while sampling, so even a random-weight model answers with JSON
//! that parses and validates.

use hearth_e2e::Server;
use serde_json::{json, Value};

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "answer": {"type": "string", "enum": ["yes", "no", "maybe"]},
            "confidence": {"type": "integer", "minimum": 0, "maximum": 9},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "maxItems": 2}
        },
        "required": ["answer", "confidence", "tags"],
        "additionalProperties": false
    })
}

fn validates(v: &Value) -> bool {
    let obj = v.as_object().expect("an object");
    obj.len() == 3
        && ["yes", "no", "maybe"].contains(&obj["answer"].as_str().unwrap_or(""))
        && obj["confidence"]
            .as_i64()
            .is_some_and(|n| (0..=9).contains(&n))
        && obj["tags"]
            .as_array()
            .is_some_and(|t| t.len() <= 2 && t.iter().all(|x| x == "a" || x == "b"))
}

#[tokio::test]
async fn schema_output_always_validates() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    for seed in 0..8 {
        let (status, body) = s
            .post("/api/generate", json!({"model": "tiny", "prompt": "Answer in JSON", "stream": false, "format": schema(),
                                          "options": {"seed": seed, "temperature": 1.0, "num_predict": 300}}))
            .await;
        assert_eq!(status, 200, "{body}");
        let text = body["response"].as_str().unwrap();
        let parsed: Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("seed {seed}: {text:?}: {e}"));
        assert!(validates(&parsed), "seed {seed}: {parsed}");
    }
    let (_, body) = s
        .post("/api/chat", json!({"model": "tiny", "stream": false, "format": schema(), "messages": [{"role": "user", "content": "Hi"}],
                                  "options": {"seed": 3, "num_predict": 300}}))
        .await;
    let parsed: Value = serde_json::from_str(body["message"]["content"].as_str().unwrap()).unwrap();
    assert!(validates(&parsed), "{parsed}");
}

#[tokio::test]
async fn json_format_gives_json_and_bad_formats_are_refused() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let (_, body) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "JSON please", "stream": false, "format": "json",
                                      "options": {"seed": 1, "num_predict": 400, "temperature": 0.7}}))
        .await;
    let text = body["response"].as_str().unwrap();
    if body["done_reason"] == "stop" {
        serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    } else {
        assert!(text.trim_start().starts_with(['{', '[']), "{text:?}");
    }
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "format": "yaml"}),
        )
        .await;
    assert_eq!(status, 500);
    assert_eq!(
        body["error"],
        "invalid format: \"yaml\"; expected \"json\" or a valid JSON Schema object"
    );
    let (status, body) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "x", "stream": false, "format": {"type": "nonsense-type"}}))
        .await;
    assert!(status == 400 || status == 500, "{status} {body}");
    assert!(s.get("/api/version").await.0 == 200, "server still up");
}
