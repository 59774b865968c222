//! The scheduler around runner processes: a runner killed mid-stream fails
//! only its request and the next one reloads the model; a model whose
//! estimated memory exceeds what is free is refused before it loads; and
//! `/api/ps` reports the real size beside the estimate.

use std::time::{Duration, Instant};

use hearth_e2e::Server;
use serde_json::{json, Value};

#[tokio::test]
async fn a_runner_killed_mid_stream_fails_its_request_and_the_next_one_reloads() {
    let Some(s) = Server::with_gemma(&[]).await else {
        return;
    };

    let mut resp = s
        .client
        .post(s.url("/api/generate"))
        .json(
            &json!({"model": "gemma3:270m", "prompt": "Once upon a time", "raw": true,
                      "options": {"num_predict": 2000, "temperature": 0}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut text = String::new();
    while !text.contains("\"response\":\"") {
        let chunk = resp.chunk().await.unwrap().expect("stream started");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let runners = s.runner_pids();
    assert_eq!(runners.len(), 1, "one runner: {runners:?}");
    let killed = std::process::Command::new("kill")
        .args(["-9", &runners[0].to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    while let Some(chunk) = resp.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let last = lines.last().unwrap();
    let error = last["error"].as_str().unwrap_or_else(|| panic!("{last}"));
    assert!(error.contains("runner"), "{error}");
    assert!(
        lines.iter().all(|l| l["done"] != true),
        "no done line: {last}"
    );

    // The dead model is no longer listed, and the next request reloads it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.get("/api/ps").await.1["models"] != json!([]) {
        assert!(Instant::now() < deadline, "dead runner still listed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "gemma3:270m", "prompt": "Hi", "stream": false,
                                      "options": {"num_predict": 3, "temperature": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["done"], true);
    let runners_now = s.runner_pids();
    assert_eq!(runners_now.len(), 1);
    assert_ne!(runners_now, runners);
}

/// The tiny model (512 tokens of trained context) under a memory cap: one
/// slot fits in 16 MiB, 64 slots' KV cache does not.
#[tokio::test]
async fn a_model_that_cannot_fit_is_refused_before_loading() {
    let s = Server::start_with(&[
        ("HEARTH_MAX_MEMORY", "16MiB"),
        ("HEARTH_NUM_PARALLEL", "64"),
    ])
    .await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "Hi", "stream": false}),
        )
        .await;
    assert_eq!(status, 500, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with("model requires more system memory (")
            && error.contains("KV cache")
            && error.contains("64 × 512 tokens")
            && error.contains("than is available (16.0 MiB)"),
        "{error}"
    );
    assert!(s.runner_pids().is_empty(), "no runner was started");
    assert_eq!(s.get("/api/ps").await.1, json!({"models": []}));

    // The same cap with one slot: the estimate fits and the model loads.
    let s =
        Server::start_with(&[("HEARTH_MAX_MEMORY", "16MiB"), ("HEARTH_NUM_PARALLEL", "1")]).await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "Hi", "stream": false, "options": {"num_predict": 2}}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn ps_reports_real_size_beside_the_estimate() {
    let s = Server::start_with(&[("HEARTH_NUM_PARALLEL", "2")]).await;
    s.create_tiny("tiny").await;
    let (status, _) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "Hi", "stream": false,
                                      "options": {"num_predict": 2, "num_ctx": 256}}),
        )
        .await;
    assert_eq!(status, 200);
    let ps = s.get("/api/ps").await.1;
    let m = &ps["models"][0];
    assert_eq!(m["context_length"], 256, "per request, not all slots: {m}");
    assert_eq!(m["num_parallel"], 2);
    assert_eq!(m["size_vram"], 0);
    let size = m["size"].as_u64().unwrap();
    let estimate = m["size_estimate"].as_u64().unwrap();
    let weights = std::fs::metadata(hearth_e2e::tiny_gguf()).unwrap().len();
    // The estimate counts the weights and more; the real size is the
    // runner's resident memory, which includes llama.cpp itself.
    assert!(estimate > weights, "{estimate} vs {weights}");
    assert!(size > weights, "{size} vs {weights}");
    assert_ne!(size, estimate, "size is measured, not the estimate");
    assert!(m["expires_at"].as_str().is_some());
}

/// Under a memory cap that holds one loaded model but not two, loading a
/// second one evicts the idle first one instead of refusing.
#[tokio::test]
async fn an_idle_model_is_evicted_when_memory_is_short() {
    // Measure what the two models take, on a server without a cap.
    let s = Server::start_with(&[("HEARTH_NUM_PARALLEL", "1")]).await;
    s.create_tiny("tiny").await;
    s.create_tiny_embed("embed").await;
    s.post("/api/generate", json!({"model": "tiny"})).await;
    s.post("/api/embed", json!({"model": "embed", "input": "x"}))
        .await;
    let ps = s.get("/api/ps").await.1;
    let field = |name: &str, key: &str| {
        ps["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("{ps}"))[key]
            .as_u64()
            .unwrap()
    };
    let tiny_size = field("tiny", "size");
    let embed_estimate = field("embed", "size_estimate");
    drop(s);

    // Room for the loaded tiny model, and none for the embedding model
    // beside it (the estimate is a few MiB; resident sizes vary less).
    let cap = tiny_size;
    assert!(embed_estimate > 0);
    let s = Server::start_with(&[
        ("HEARTH_NUM_PARALLEL", "1"),
        ("HEARTH_MAX_MEMORY", &cap.to_string()),
    ])
    .await;
    s.create_tiny("tiny").await;
    s.create_tiny_embed("embed").await;
    let (status, body) = s.post("/api/generate", json!({"model": "tiny"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .post("/api/embed", json!({"model": "embed", "input": "x"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let ps = s.get("/api/ps").await.1;
    let names: Vec<&str> = ps["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["embed:latest"], "tiny was evicted: {ps}");
}
