//! Prompts longer than the context: chat history is truncated the way
//! Ollama does it (oldest turns go, system messages and the last message
//! stay), or refused when shifting is off; `_debug_render_only` shows the
//! prompt that would run. Generations that fill the context shift it and go
//! on, unless `shift` is off.

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

#[tokio::test]
async fn a_generation_that_fills_the_context_shifts_it_and_goes_on() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    // The tiny model never ends on its own at temperature 0.
    let gen = |shift: Option<bool>| {
        let mut body = json!({"model": "tiny", "prompt": "The quick brown fox", "stream": false,
                              "options": {"num_ctx": 128, "num_predict": 400, "temperature": 0}});
        if let Some(shift) = shift {
            body["shift"] = json!(shift);
        }
        body
    };
    for shift in [None, Some(true)] {
        let (status, body) = s.post("/api/generate", gen(shift)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["eval_count"], 400, "shift {shift:?}: {body}");
        assert_eq!(body["done_reason"], "length");
    }
    let (status, body) = s.post("/api/generate", gen(Some(false))).await;
    assert_eq!(status, 200, "{body}");
    let n = body["eval_count"].as_u64().unwrap() + body["prompt_eval_count"].as_u64().unwrap();
    assert!(n <= 128, "stopped at the end of the context: {body}");
    assert_eq!(body["done_reason"], "length");

    // Streamed and in a chat too.
    let (status, _, lines) = s
        .stream(
            "/api/chat",
            json!({"model": "tiny", "messages": [{"role": "user", "content": "Hi"}],
                   "options": {"num_ctx": 128, "num_predict": 300, "temperature": 0}}),
        )
        .await;
    assert_eq!(status, 200);
    let last = lines.last().unwrap();
    assert_eq!(last["eval_count"], 300, "{last}");
}
