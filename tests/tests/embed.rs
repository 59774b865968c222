//! Embeddings end to end with the tiny generated embedding model (mean
//! pooling, 128 dimensions, 512-token context): `/api/embed` (C-070..C-074,
//! C-076), the legacy `/api/embeddings` (C-075), batching, truncation, and
//! how completion models and embedding models refuse each other's endpoints.

use hearth_e2e::Server;
use serde_json::{json, Value};

const DIM: usize = 128;
/// Batched and one-by-one runs differ slightly (llama.cpp is not batch
/// invariant); this is far below the distance between different inputs.
const TOLERANCE: f32 = 1e-3;

async fn with_embed() -> Server {
    let s = Server::start().await;
    s.create_tiny_embed("embed").await;
    s
}

fn vectors(body: &Value) -> Vec<Vec<f32>> {
    body["embeddings"]
        .as_array()
        .unwrap_or_else(|| panic!("no embeddings: {body}"))
        .iter()
        .map(vector)
        .collect()
}

fn vector(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a vector: {v}"))
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

async fn embed_one(s: &Server, input: &str) -> Vec<f32> {
    let (status, body) = s
        .post("/api/embed", json!({"model": "embed", "input": input}))
        .await;
    assert_eq!(status, 200, "{body}");
    vectors(&body).remove(0)
}

/// A sentence of `words` words from the tiny model's vocabulary.
fn words(n: usize) -> String {
    let pool = [
        "the", "fire", "hearth", "warm", "bright", "sea", "sky", "bread",
    ];
    (0..n)
        .map(|i| pool[i % pool.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_string_gives_one_unit_vector_with_metrics() {
    let s = with_embed().await;
    let resp = s
        .client
        .post(s.url("/api/embed"))
        .json(&json!({"model": "embed", "input": "The fire in the hearth"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["model"], "embed");
    let v = vectors(&body);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].len(), DIM);
    assert!((norm(&v[0]) - 1.0).abs() < 1e-4, "norm {}", norm(&v[0]));
    for k in ["total_duration", "load_duration", "prompt_eval_count"] {
        assert!(body[k].as_u64().is_some_and(|n| n > 0), "{k}: {body}");
    }
    // float32 precision on the wire, as Ollama sends it (not 0.1 widened
    // to 0.10000000149011612).
    let first = text.split("[[").nth(1).unwrap().split(',').next().unwrap();
    let digits = first.chars().filter(char::is_ascii_digit).count();
    assert!(digits <= 10, "{first} is not a float32 literal");
}

#[tokio::test]
async fn arrays_keep_their_order_and_batches_match_single_inputs() {
    let s = with_embed().await;
    // More inputs than one batch holds (32 sequences), of varied lengths,
    // with a repeated one.
    let mut inputs: Vec<String> = (0..40).map(|i| words(1 + i % 9)).collect();
    inputs.push("Hello! How are you today?".into());
    inputs.push(inputs[3].clone());
    let (status, body) = s
        .post("/api/embed", json!({"model": "embed", "input": inputs}))
        .await;
    assert_eq!(status, 200, "{body}");
    let batch = vectors(&body);
    assert_eq!(batch.len(), inputs.len());
    for v in &batch {
        assert!((norm(v) - 1.0).abs() < 1e-4);
    }
    assert!(max_diff(&batch[3], &batch[41]) < TOLERANCE);
    assert!(max_diff(&batch[0], &batch[1]) > 10.0 * TOLERANCE);
    let mut total_tokens = 0;
    for (input, v) in inputs.iter().zip(&batch) {
        let (_, one) = s
            .post("/api/embed", json!({"model": "embed", "input": [input]}))
            .await;
        assert!(
            max_diff(&vectors(&one)[0], v) < TOLERANCE,
            "input {input:?} differs batched"
        );
        total_tokens += one["prompt_eval_count"].as_u64().unwrap();
    }
    assert_eq!(body["prompt_eval_count"].as_u64(), Some(total_tokens));
}

#[tokio::test]
async fn invalid_and_empty_inputs() {
    let s = with_embed().await;
    for input in [json!(5), json!(["a", 1]), json!({"a": "b"}), json!(true)] {
        let (status, body) = s
            .post("/api/embed", json!({"model": "embed", "input": input}))
            .await;
        assert_eq!(status, 400, "{input}: {body}");
        assert_eq!(body, json!({"error": "invalid input type"}));
    }
    let (_, ps) = s.get("/api/ps").await;
    assert_eq!(ps["models"], json!([]), "invalid input must not load");
    for input in [json!(""), json!([]), Value::Null] {
        let (status, body) = s
            .post("/api/embed", json!({"model": "embed", "input": input}))
            .await;
        assert_eq!(status, 200, "{input}: {body}");
        assert_eq!(body, json!({"model": "embed", "embeddings": []}));
    }
    let (_, body) = s.post("/api/embed", json!({"model": "embed"})).await;
    assert_eq!(body, json!({"model": "embed", "embeddings": []}));
    let (_, ps) = s.get("/api/ps").await;
    assert_eq!(ps["models"][0]["name"], "embed:latest", "empty input loads");
}

#[tokio::test]
async fn dimensions_cut_and_renormalise() {
    let s = with_embed().await;
    let full = embed_one(&s, "warm bread").await;
    let (status, body) = s
        .post(
            "/api/embed",
            json!({"model": "embed", "input": ["warm bread"], "dimensions": 8}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let cut = vectors(&body).remove(0);
    assert_eq!(cut.len(), 8);
    assert!((norm(&cut) - 1.0).abs() < 1e-4);
    let head = &full[..8];
    let expected: Vec<f32> = head.iter().map(|x| x / norm(head)).collect();
    assert!(max_diff(&cut, &expected) < 1e-4);
    for ignored in [0, DIM as i64, 1000] {
        let (_, body) = s
            .post(
                "/api/embed",
                json!({"model": "embed", "input": "warm bread", "dimensions": ignored}),
            )
            .await;
        assert_eq!(vectors(&body)[0].len(), DIM, "dimensions {ignored}");
    }
}

#[tokio::test]
async fn long_inputs_are_truncated_unless_asked_not_to() {
    let s = with_embed().await;
    let long = words(2000);
    let (status, body) = s
        .post(
            "/api/embed",
            json!({"model": "embed", "input": long, "truncate": false}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "the input length exceeds the context length"})
    );
    let (status, body) = s
        .post(
            "/api/embed",
            json!({"model": "embed", "input": [&long, "sea"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(vectors(&body).len(), 2);
    let sea = body["prompt_eval_count"].as_u64().unwrap() - 512;
    assert!((1..5).contains(&sea), "{body}");
    // The limit follows num_ctx; the head of the input decides the vector.
    let (_, small) = s
        .post(
            "/api/embed",
            json!({"model": "embed", "input": long, "options": {"num_ctx": 64}}),
        )
        .await;
    assert_eq!(small["prompt_eval_count"], 64, "{small}");
    let (_, head) = s
        .post(
            "/api/embed",
            json!({"model": "embed", "input": words(200), "options": {"num_ctx": 64}}),
        )
        .await;
    assert!(max_diff(&vectors(&small)[0], &vectors(&head)[0]) < TOLERANCE);
}

#[tokio::test]
async fn legacy_embeddings_are_raw_and_single() {
    let s = with_embed().await;
    let (status, body) = s
        .post(
            "/api/embeddings",
            json!({"model": "embed", "prompt": "warm bread"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let raw = vector(&body["embedding"]);
    assert_eq!(raw.len(), DIM);
    assert!((norm(&raw) - 1.0).abs() > 1e-2, "legacy is not normalised");
    let scaled: Vec<f32> = raw.iter().map(|x| x / norm(&raw)).collect();
    assert!(max_diff(&scaled, &embed_one(&s, "warm bread").await) < TOLERANCE);

    let (status, body) = s
        .post("/api/embeddings", json!({"model": "embed", "prompt": ""}))
        .await;
    assert_eq!((status, body), (200, json!({"embedding": []})));
    let (status, body) = s.post("/api/embeddings", json!({"prompt": "x"})).await;
    assert_eq!((status, body), (400, json!({"error": "model is required"})));
    let (status, body) = s
        .post("/api/embeddings", json!({"model": "nope", "prompt": "x"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "model \"nope\" not found, try pulling it first"
    );
}

#[tokio::test]
async fn unknown_models_and_bad_requests() {
    let s = Server::start().await;
    let (status, body) = s
        .post("/api/embed", json!({"model": "x", "input": "hi"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "model \"x\" not found, try pulling it first"})
    );
    let (status, body) = s.post("/api/embed", json!({"input": "hi"})).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "model '' not found"}))
    );
    let (status, body) = s
        .post(
            "/api/embed",
            json!({"model": "x", "input": "hi", "keep_alive": "10"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "time: missing unit in duration \"10\"");
    for path in ["/api/embed", "/api/embeddings"] {
        let (status, body) = s.post_raw(path, "").await;
        assert_eq!(
            (status, body),
            (400, json!({"error": "missing request body"}))
        );
    }
}

#[tokio::test]
async fn completion_models_do_not_embed() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post("/api/embed", json!({"model": "tiny", "input": "hi"}))
        .await;
    assert_eq!(status, 501);
    assert_eq!(
        body,
        json!({"error": "this model does not support embeddings"})
    );
    // Loading alone works, as in Ollama.
    let (status, body) = s
        .post("/api/embed", json!({"model": "tiny", "input": []}))
        .await;
    assert_eq!(
        (status, body),
        (200, json!({"model": "tiny", "embeddings": []}))
    );
    let (status, body) = s
        .post("/api/embeddings", json!({"model": "tiny", "prompt": "hi"}))
        .await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "this model does not support embeddings");
    // The runner is still fine for generation.
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "Hi", "stream": false, "options": {"num_predict": 2}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn embedding_models_show_their_capability_and_refuse_generation() {
    let s = with_embed().await;
    let (_, show) = s.post("/api/show", json!({"model": "embed"})).await;
    assert_eq!(show["capabilities"], json!(["embedding"]));
    let (status, body) = s
        .post("/api/generate", json!({"model": "embed", "prompt": "hi"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "\"embed\" does not support generate");
    let (status, body) = s
        .post(
            "/api/chat",
            json!({"model": "embed", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "\"embed\" does not support chat");
}
