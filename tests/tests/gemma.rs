//! The real small model, Gemma 3 270M (fetched by `make test-model`): chat
//! through the built-in Gemma turn format, and prompt-cache reuse that must
//! never change what the model says.

use hearth_e2e::{text_of, Server};
use serde_json::{json, Value};

fn greedy(n: u32) -> Value {
    // A small batch keeps the sliding-window cache small (window + batch
    // cells), so a short generation is enough to make it evict.
    json!({"num_predict": n, "temperature": 0, "num_thread": 1, "num_batch": 64})
}

#[tokio::test]
async fn gemma_chats_and_caches_prompts_without_changing_answers() {
    let Some(s) = Server::with_gemma(&[]).await else {
        return;
    };

    let show = s.post("/api/show", json!({"model": "gemma3:270m"})).await.1;
    assert_eq!(show["details"]["family"], "gemma3");
    assert_eq!(show["details"]["quantization_level"], "Q4_K_M");
    assert!(
        show["template"]
            .as_str()
            .unwrap()
            .contains("<start_of_turn>"),
        "built-in Gemma format"
    );

    let (status, _, lines) = s
        .stream("/api/chat", json!({"model": "gemma3:270m", "messages": [{"role": "user", "content": "Hi"}], "options": greedy(16)}))
        .await;
    assert_eq!(status, 200);
    assert!(!text_of(&lines).trim().is_empty(), "{lines:?}");
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(
        last["prompt_eval_count"], 10,
        "<bos> and the turn markers are single special tokens"
    );

    // A long generation makes the sliding-window cache forget its start;
    // the next answer must match the one from a freshly loaded model.
    let probe = json!({"model": "gemma3:270m", "prompt": "The capital of France is", "raw": true, "stream": false, "options": greedy(24)});
    s.post("/api/generate", json!({"model": "gemma3:270m", "prompt": "Once upon a time", "raw": true, "stream": false, "options": greedy(1100)}))
        .await;
    let after_long = s.post("/api/generate", probe.clone()).await.1;
    let again = s.post("/api/generate", probe.clone()).await.1;
    s.post(
        "/api/generate",
        json!({"model": "gemma3:270m", "keep_alive": 0}),
    )
    .await;
    let fresh = s.post("/api/generate", probe).await.1;
    // llama.cpp is not batch-invariant (a reused cache, a prompt evaluated
    // in other chunks, or other cache cells give slightly different logits),
    // so greedy answers may drift apart after a while: compare their starts.
    // A broken cache diverges at once.
    let start = |v: &Value| {
        v["response"]
            .as_str()
            .unwrap()
            .chars()
            .take(24)
            .collect::<String>()
    };
    assert_eq!(start(&after_long), start(&fresh));
    assert_eq!(start(&again), start(&fresh));
    assert!(fresh["response"].as_str().unwrap().len() > 10, "{fresh}");
}

#[tokio::test]
async fn gemma_resumes_a_long_prompt_from_a_checkpoint_once_its_window_moved_on() {
    // One slot and a small batch: a sliding-window cache of 768 cells
    // (window 512 plus the batch, padded), whatever the machine.
    let Some(s) = Server::with_gemma(&[("HEARTH_NUM_PARALLEL", "1")]).await else {
        return;
    };
    let gen = |prompt: &str, n: u32| json!({"model": "gemma3:270m", "prompt": prompt, "raw": true, "stream": false, "options": greedy(n)});
    let notes: String = (1..=24)
        .map(|i| {
            format!(
                "Note {i}: the number {i} comes after {} and before {}.\n",
                i - 1,
                i + 1
            )
        })
        .collect();
    let first = format!("{notes}Counting on: 1, 2, 3, 4, 5, 6, 7, 8,");
    let a = s.post("/api/generate", gen(&first, 320)).await.1;
    let n_first = a["prompt_eval_count"].as_u64().unwrap();
    assert!((300..700).contains(&n_first), "{a}");
    // The window has moved past the prompt's end: the cache forgot the
    // positions a continuation from there attends to.
    assert!(a["eval_count"].as_u64().unwrap() > 260, "{a}");

    let (hits, restores) = (
        s.metric("vllm:prefix_cache_hits_total").await,
        s.metric("hearth_prompt_cache_checkpoint_restores_total")
            .await,
    );
    let grown = format!("{first} nine, ten. That is enough counting. The next note is");
    let b = s.post("/api/generate", gen(&grown, 12)).await.1;
    assert_eq!(
        s.metric("hearth_prompt_cache_checkpoint_restores_total")
            .await
            - restores,
        1.0
    );
    let reused = s.metric("vllm:prefix_cache_hits_total").await - hits;
    assert!(
        reused >= (n_first - 1) as f64,
        "reused {reused} of {n_first}"
    );

    // The restored state says what a freshly loaded model says.
    s.post(
        "/api/generate",
        json!({"model": "gemma3:270m", "keep_alive": 0}),
    )
    .await;
    let fresh = s.post("/api/generate", gen(&grown, 12)).await.1;
    let start = |v: &Value| {
        v["response"]
            .as_str()
            .unwrap()
            .chars()
            .take(16)
            .collect::<String>()
    };
    assert_eq!(start(&b), start(&fresh), "{b} / {fresh}");
}

#[tokio::test]
async fn gemma_keeps_counting_across_a_context_shift() {
    let Some(s) = Server::with_gemma(&[("HEARTH_NUM_PARALLEL", "1")]).await else {
        return;
    };
    // 71 prompt tokens + 300 generated in a 256-token context: the context
    // shifts once, about number 66. Moved keys that were not re-rotated
    // right would derail the count at once.
    let prompt = (1..=20)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
        + ",";
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "gemma3:270m", "prompt": prompt, "raw": true, "stream": false,
                   "options": {"num_ctx": 256, "num_predict": 300, "temperature": 0, "num_thread": 1}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["eval_count"], 300, "{body}");
    let text = body["response"].as_str().unwrap();
    let numbers: Vec<u32> = text
        .split(',')
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    let counted = numbers
        .iter()
        .zip(21..)
        .take_while(|(n, want)| **n == *want)
        .count();
    assert!(
        counted >= 60 && counted + 1 >= numbers.len(),
        "counted {counted} of {numbers:?}"
    );
}
