//! Prompts longer than the context: chat history is truncated the way
//! Ollama does it (oldest turns go, system messages and the last message
//! stay), or refused when shifting is off; `_debug_render_only` shows the
//! prompt that would run.

use hearth_e2e::Server;
use serde_json::{json, Value};

fn long_history(turns: usize) -> Vec<Value> {
    let mut m = vec![json!({"role": "system", "content": "SYSTEM-KEPT"})];
    for i in 0..turns {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        m.push(json!({"role": role, "content": format!("turn {i}: {}", "the quick brown fox ".repeat(6))}));
    }
    m.push(json!({"role": "user", "content": "LAST-QUESTION"}));
    m
}

fn rendered(v: &Value) -> String {
    v["_debug_info"]["rendered_template"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

#[tokio::test]
async fn long_chats_drop_the_oldest_turns() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let history = long_history(40);
    let (status, body) = s
        .post("/api/chat", json!({"model": "tiny", "stream": false, "_debug_render_only": true, "messages": history}))
        .await;
    assert_eq!(status, 200, "{body}");
    let prompt = rendered(&body);
    assert!(
        prompt.contains("SYSTEM-KEPT") && prompt.contains("LAST-QUESTION"),
        "{prompt}"
    );
    assert!(!prompt.contains("turn 0:"), "the oldest turns are dropped");
    assert!(prompt.contains("turn 39:"), "the newest turns stay");

    let (status, body) = s
        .post("/api/chat", json!({"model": "tiny", "stream": false, "messages": history, "options": {"num_predict": 4}}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["prompt_eval_count"].as_u64().unwrap() <= 512);

    let short = long_history(1);
    let (_, body) = s
        .post(
            "/api/chat",
            json!({"model": "tiny", "_debug_render_only": true, "messages": short}),
        )
        .await;
    assert!(
        rendered(&body).contains("turn 0:"),
        "nothing dropped when it fits"
    );

    let (status, body) = s
        .post("/api/chat", json!({"model": "tiny", "stream": false, "truncate": false, "shift": false, "messages": history}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("the prompt is longer than the context length"),
        "{body}"
    );
    let (status, _) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "word ".repeat(2000), "shift": false, "stream": false}))
        .await;
    assert_eq!(status, 400);
}
