//! Generation end to end with the tiny generated model: streaming format,
//! stop conditions, determinism, load/unload and keep-alive.

use hearth_e2e::{text_of, Server};
use serde_json::{json, Value};

const OPTS: fn() -> Value = || json!({"temperature": 0, "num_thread": 1});

async fn with_tiny() -> Server {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    s
}

fn assert_created_at(v: &Value) {
    let t = v["created_at"].as_str().expect("created_at");
    assert!(t.ends_with('Z'), "{t}");
    chrono_like(t);
}

fn chrono_like(t: &str) {
    assert!(t.len() >= 20 && &t[4..5] == "-" && &t[10..11] == "T", "{t}");
}

#[tokio::test]
async fn generate_streams_ndjson_with_final_metrics() {
    let s = with_tiny().await;
    let (status, ctype, lines) = s
        .stream("/api/generate", json!({"model": "tiny", "prompt": "Hello", "options": {"num_predict": 8, "temperature": 0}}))
        .await;
    assert_eq!(status, 200, "{lines:?}");
    assert_eq!(ctype, "application/x-ndjson");
    assert!(lines.len() >= 2, "{lines:?}");
    let (last, chunks) = lines.split_last().unwrap();
    for c in chunks {
        assert_eq!(c["done"], false);
        assert_eq!(c["model"], "tiny");
        assert!(c["response"].is_string());
        assert_created_at(c);
        for k in ["total_duration", "eval_count", "done_reason", "context"] {
            assert!(c.get(k).is_none(), "non-final chunk has {k}: {c}");
        }
    }
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "length");
    for k in [
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    ] {
        assert!(
            last[k].as_u64().is_some_and(|n| n > 0),
            "final chunk lacks {k}: {last}"
        );
    }
    assert_eq!(last["eval_count"], 8);
    assert!(last["context"].as_array().is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn non_streamed_equals_streamed_and_is_deterministic_at_temperature_zero() {
    let s = with_tiny().await;
    let req = json!({"model": "tiny", "prompt": "The quick brown fox", "options": {"num_predict": 12, "temperature": 0}});
    let (_, _, lines) = s.stream("/api/generate", req.clone()).await;
    let mut once = req.clone();
    once["stream"] = json!(false);
    let resp = s
        .client
        .post(s.url("/api/generate"))
        .json(&once)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["done"], true);
    assert_eq!(body["response"].as_str().unwrap(), text_of(&lines));
    let (_, again) = s.post("/api/generate", once).await;
    assert_eq!(again["response"], body["response"]);
    assert_eq!(again["context"], body["context"]);
}

#[tokio::test]
async fn seeded_sampling_is_reproducible() {
    let s = with_tiny().await;
    let req = |seed: i64| {
        json!({"model": "tiny", "prompt": "Once", "stream": false,
                                  "options": {"num_predict": 16, "temperature": 1.5, "top_k": 100, "top_p": 1.0, "seed": seed}})
    };
    let a = s.post("/api/generate", req(42)).await.1;
    let b = s.post("/api/generate", req(42)).await.1;
    assert_eq!(a["response"], b["response"]);
    let texts: std::collections::HashSet<String> =
        futures_util::future::join_all((1..6).map(|seed| s.post("/api/generate", req(seed))))
            .await
            .into_iter()
            .map(|(_, v)| v["response"].as_str().unwrap().to_string())
            .collect();
    assert!(
        texts.len() > 1,
        "different seeds should not all agree: {texts:?}"
    );
}

#[tokio::test]
async fn stop_strings_end_generation_and_never_leak() {
    let s = with_tiny().await;
    let base = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "Hello", "stream": false,
                                              "options": {"num_predict": 24, "temperature": 0}}),
        )
        .await
        .1;
    let text = base["response"].as_str().unwrap().to_string();
    assert!(text.chars().count() >= 6, "need some text to cut: {text:?}");
    // A stop string from the middle of the greedy output, spanning tokens.
    let start = text.char_indices().nth(2).unwrap().0;
    let end = text.char_indices().nth(5).unwrap().0;
    let stop = &text[start..end];
    let (_, _, lines) = s
        .stream("/api/generate", json!({"model": "tiny", "prompt": "Hello", "options": {"num_predict": 24, "temperature": 0, "stop": [stop]}}))
        .await;
    let cut = text_of(&lines);
    assert_eq!(cut, text[..text.find(stop).unwrap()], "stop {stop:?}");
    assert!(!cut.contains(stop));
    assert_eq!(lines.last().unwrap()["done_reason"], "stop");
}

#[tokio::test]
async fn chat_streams_messages() {
    let s = with_tiny().await;
    let (status, _, lines) = s
        .stream("/api/chat", json!({"model": "tiny", "messages": [{"role": "User", "content": "Hi"}], "options": OPTS()}))
        .await;
    assert_eq!(status, 200);
    for l in &lines {
        assert_eq!(l["message"]["role"], "assistant");
        assert!(l["message"]["content"].is_string());
    }
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert!(last.get("context").is_none());
    assert!(last["eval_count"].as_u64().unwrap() > 0);
    let (_, once) = s
        .post("/api/chat", json!({"model": "tiny", "stream": false, "messages": [{"role": "user", "content": "Hi"}], "options": OPTS()}))
        .await;
    assert_eq!(
        once["message"]["content"].as_str().unwrap(),
        text_of(&lines)
    );
}

#[tokio::test]
async fn load_unload_and_keep_alive_show_in_ps() {
    let s = with_tiny().await;
    let (status, body) = s.post("/api/generate", json!({"model": "tiny"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["done_reason"], "load");
    assert_eq!(body["done"], true);
    let ps = s.get("/api/ps").await.1;
    let m = &ps["models"][0];
    assert_eq!(m["name"], "tiny:latest");
    assert!(m["size"].as_u64().unwrap() > 0);
    assert_eq!(m["size_vram"], 0);
    assert_eq!(
        m["context_length"], 512,
        "capped to the tiny model's trained context"
    );
    assert_eq!(m["digest"].as_str().unwrap().len(), 64);

    let (_, body) = s
        .post("/api/chat", json!({"model": "tiny", "keep_alive": 0}))
        .await;
    assert_eq!(body["done_reason"], "unload");
    assert_eq!(body["message"], json!({"role": "assistant", "content": ""}));
    assert_eq!(s.get("/api/ps").await.1, json!({"models": []}));

    // Pinned forever: expires far in the future.
    s.post("/api/generate", json!({"model": "tiny", "keep_alive": -1}))
        .await;
    let ps = s.get("/api/ps").await.1;
    assert!(
        ps["models"][0]["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("23"),
        "{ps}"
    );

    // A short keep-alive expires by itself after the request ends.
    s.post("/api/generate", json!({"model": "tiny", "prompt": "Hi", "keep_alive": "1s", "stream": false, "options": {"num_predict": 2}})).await;
    assert_eq!(
        s.get("/api/ps").await.1["models"].as_array().unwrap().len(),
        1
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(s.get("/api/ps").await.1, json!({"models": []}));

    assert_eq!(
        s.post(
            "/api/generate",
            json!({"model": "tiny", "keep_alive": "10"})
        )
        .await,
        (
            400,
            json!({"error": "time: missing unit in duration \"10\""})
        )
    );
}

#[tokio::test]
async fn request_validation() {
    let s = with_tiny().await;
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "raw": true, "system": "s"}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "raw mode does not support template, system, or context"})
        )
    );
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "options": {"num_ctx": "big"}}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"error": "option \"num_ctx\" must be of type integer"})
        )
    );
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "think": "bogus"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid think value: \"bogus\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)");
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "think": true}),
        )
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "\"tiny\" does not support thinking"}))
    );
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "format": 123}),
        )
        .await;
    assert_eq!(status, 500);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid format: "),
        "{body}"
    );
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "top_logprobs": 21}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "top_logprobs must be between 0 and 20"})
        )
    );
    // Removed options are accepted and ignored.
    let (status, _) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "x", "stream": false, "options": {"mirostat": 2, "num_predict": 1}}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn client_disconnect_cancels_generation() {
    let s = with_tiny().await;
    // A long generation, abandoned after the first chunk.
    let mut resp = s
        .client
        .post(s.url("/api/generate"))
        .json(&json!({"model": "tiny", "prompt": "Hello", "options": {"num_predict": 100000, "temperature": 0}}))
        .send()
        .await
        .unwrap();
    resp.chunk().await.unwrap().expect("first chunk");
    drop(resp);
    // The runner is free again promptly: a short request completes.
    let started = std::time::Instant::now();
    let (status, body) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "Hi", "stream": false, "options": {"num_predict": 3}}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[tokio::test]
async fn images_are_checked() {
    let s = with_tiny().await;
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "x", "images": ["data:image/png;base64,AAAA"]}),
        )
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "illegal base64 data at input byte 4"}))
    );
    let (status, body) = s
        .post("/api/chat", json!({"model": "tiny", "messages": [{"role": "user", "content": "x", "images": ["iVBORw0KGgo="]}]}))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "registry.ollama.ai/library/tiny:latest does not support vision"})
        )
    );
}

#[tokio::test]
async fn suffix_fills_in_the_middle_when_the_template_can() {
    let s = with_tiny().await;
    let fim = "{{ if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{ else }}{{ .Prompt }}{{ end }}";
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "coder", "from": "tiny", "template": fim, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let show = s.post("/api/show", json!({"model": "coder"})).await.1;
    assert!(
        show["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("insert")),
        "{show}"
    );
    let (_, body) = s
        .post("/api/generate", json!({"model": "coder", "prompt": "def f(", "suffix": "return x", "_debug_render_only": true}))
        .await;
    assert_eq!(
        body["_debug_info"]["rendered_template"],
        "<PRE> def f( <SUF>return x <MID>"
    );
    let (status, body) = s
        .post("/api/generate", json!({"model": "coder", "prompt": "def f(", "suffix": "x", "stream": false, "options": {"num_predict": 3}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "a", "suffix": "b"}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "registry.ollama.ai/library/tiny:latest does not support insert"})
        )
    );
}
