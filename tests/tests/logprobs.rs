//! `logprobs` / `top_logprobs` on generate and chat (C-033) with the tiny
//! model. At temperature 0 the sampled token is the most likely one, so it
//! must head its own `top_logprobs`; and since the tiny model's greedy
//! output is plain UTF-8 text, the tokens spell out the response exactly.

use hearth_e2e::{text_of, Server};
use serde_json::{json, Value};

async fn with_tiny() -> Server {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    s
}

fn entries(v: &Value) -> Vec<Value> {
    v["logprobs"].as_array().cloned().unwrap_or_default()
}

/// Checks one entry's shape; returns its token.
fn check_entry(e: &Value, top: usize) -> String {
    let token = e["token"].as_str().expect("token").to_string();
    let logprob = e["logprob"].as_f64().expect("logprob");
    assert!(logprob <= 0.0, "{e}");
    if token.is_empty() {
        assert!(e.get("bytes").is_none(), "{e}");
    } else {
        let bytes: Vec<u8> = serde_json::from_value(e["bytes"].clone()).unwrap();
        assert_eq!(bytes, token.as_bytes(), "{e}");
    }
    if top == 0 {
        assert!(e.get("top_logprobs").is_none(), "{e}");
        return token;
    }
    let alts = e["top_logprobs"].as_array().expect("top_logprobs");
    assert_eq!(alts.len(), top, "{e}");
    let lps: Vec<f64> = alts
        .iter()
        .map(|a| a["logprob"].as_f64().unwrap())
        .collect();
    assert!(lps.windows(2).all(|w| w[0] >= w[1]), "not sorted: {e}");
    // Greedy: the chosen token is the most likely one.
    assert_eq!(alts[0]["token"], e["token"], "{e}");
    assert!((lps[0] - logprob).abs() < 1e-6, "{e}");
    token
}

#[tokio::test]
async fn streamed_generate_chunks_carry_their_tokens_logprobs() {
    let s = with_tiny().await;
    let (status, _, lines) = s
        .stream(
            "/api/generate",
            json!({"model": "tiny", "prompt": "Hello", "logprobs": true, "top_logprobs": 2,
                   "options": {"num_predict": 8, "temperature": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{lines:?}");
    let (last, chunks) = lines.split_last().unwrap();
    let mut spelled = String::new();
    for c in chunks {
        let es = entries(c);
        assert!(!es.is_empty(), "chunk without logprobs: {c}");
        let tokens: String = es.iter().map(|e| check_entry(e, 2)).collect();
        assert_eq!(tokens, c["response"].as_str().unwrap(), "{c}");
        spelled.push_str(&tokens);
    }
    assert_eq!(spelled, text_of(&lines));
    let count: usize = chunks.iter().map(|c| entries(c).len()).sum();
    assert_eq!(last["eval_count"].as_u64(), Some(count as u64));
    assert!(last.get("logprobs").is_none(), "{last}");
}

#[tokio::test]
async fn non_streamed_responses_accumulate_logprobs() {
    let s = with_tiny().await;
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "The fire", "stream": false, "logprobs": true,
                   "options": {"num_predict": 6, "temperature": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let es = entries(&body);
    assert_eq!(Some(es.len() as u64), body["eval_count"].as_u64(), "{body}");
    let tokens: String = es.iter().map(|e| check_entry(e, 0)).collect();
    assert_eq!(tokens, body["response"].as_str().unwrap());

    let (status, body) = s
        .post(
            "/api/chat",
            json!({"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], "stream": false,
                   "logprobs": true, "top_logprobs": 3, "options": {"num_predict": 5, "temperature": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let es = entries(&body);
    assert_eq!(es.len(), 5, "{body}");
    let tokens: String = es.iter().map(|e| check_entry(e, 3)).collect();
    assert_eq!(tokens, body["message"]["content"].as_str().unwrap());
}

#[tokio::test]
async fn streamed_chat_chunks_carry_logprobs() {
    let s = with_tiny().await;
    let (status, _, lines) = s
        .stream(
            "/api/chat",
            json!({"model": "tiny", "messages": [{"role": "user", "content": "Hi"}],
                   "logprobs": true, "top_logprobs": 1, "options": {"num_predict": 4, "temperature": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{lines:?}");
    let (_, chunks) = lines.split_last().unwrap();
    for c in chunks {
        let tokens: String = entries(c).iter().map(|e| check_entry(e, 1)).collect();
        assert_eq!(tokens, c["message"]["content"].as_str().unwrap(), "{c}");
    }
}

#[tokio::test]
async fn logprobs_only_when_asked() {
    let s = with_tiny().await;
    // top_logprobs alone does not turn them on, as in Ollama.
    let (_, _, lines) = s
        .stream(
            "/api/generate",
            json!({"model": "tiny", "prompt": "Hello", "top_logprobs": 3,
                   "options": {"num_predict": 3, "temperature": 0}}),
        )
        .await;
    assert!(
        lines.iter().all(|l| l.get("logprobs").is_none()),
        "{lines:?}"
    );
    for bad in [21, -1] {
        let (status, body) = s
            .post(
                "/api/chat",
                json!({"model": "tiny", "messages": [], "top_logprobs": bad}),
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"], "top_logprobs must be between 0 and 20");
    }
}
