//! Thinking: a model whose template supports it thinks by default, its
//! reasoning comes back in `thinking` apart from the answer, and
//! `think: false` turns it off.

use hearth_e2e::Server;
use serde_json::json;

const TEMPLATE: &str = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ if .Think }}<think>\n{{ end }}";

#[tokio::test]
async fn thinking_is_split_from_content() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "thinker", "from": "tiny", "template": TEMPLATE, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let show = s.post("/api/show", json!({"model": "thinker"})).await.1;
    assert!(
        show["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("thinking")),
        "{show}"
    );

    let ask = json!([{"role": "user", "content": "Why?"}]);
    let opts = json!({"temperature": 0, "num_predict": 12});
    // The prompt ends inside <think>: everything generated is reasoning.
    let (_, body) = s
        .post(
            "/api/chat",
            json!({"model": "thinker", "stream": false, "messages": ask, "options": opts}),
        )
        .await;
    assert!(
        !body["message"]["thinking"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{body}"
    );
    let (_, _, lines) = s
        .stream(
            "/api/chat",
            json!({"model": "thinker", "messages": ask, "options": opts}),
        )
        .await;
    assert!(
        lines.iter().any(|l| l["message"]["thinking"].is_string()),
        "{lines:?}"
    );

    let (_, body) = s
        .post("/api/chat", json!({"model": "thinker", "stream": false, "think": false, "messages": ask, "options": opts}))
        .await;
    assert!(body["message"].get("thinking").is_none(), "{body}");
    assert!(!body["message"]["content"].as_str().unwrap().is_empty());

    let (_, body) = s
        .post("/api/generate", json!({"model": "thinker", "stream": false, "prompt": "Why?", "think": "high", "options": opts}))
        .await;
    assert!(
        !body["thinking"].as_str().unwrap_or("").is_empty(),
        "{body}"
    );
}
