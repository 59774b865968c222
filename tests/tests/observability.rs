//! Prompt-cache and KV-cache metrics, and log files for the desktop app.

use hearth_e2e::{metric_in as metric, Server};
use serde_json::json;

#[tokio::test]
async fn prompt_cache_hits_and_kv_cache_use_are_reported() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let req = json!({"model": "tiny", "prompt": "The quick brown fox jumps", "stream": false,
                     "options": {"num_predict": 4, "temperature": 0}});
    s.post("/api/generate", req.clone()).await;
    s.post("/api/generate", req).await;
    let text = s.get_text("/metrics").await;
    let hits = metric(&text, "vllm:prefix_cache_hits_total");
    let queries = metric(&text, "vllm:prefix_cache_queries_total");
    assert!(
        hits > 0.0 && hits < queries,
        "the second prompt reused the first: {hits}/{queries}"
    );
    let usage = metric(&text, "vllm:kv_cache_usage_perc");
    assert!(usage > 0.0 && usage < 1.0, "{usage}");
    assert!(metric(&text, "llamacpp:kv_cache_tokens") > 0.0);
}

#[tokio::test]
async fn logs_also_go_to_daily_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(&[("HEARTH_LOG_DIR", dir.path().to_str().unwrap())]).await;
    assert_eq!(s.get("/api/version").await.0, 200);
    let mut found = String::new();
    for _ in 0..50 {
        found = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("hearth.log"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect();
        if found.contains("Listening on") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found.contains("Listening on"), "log files: {found:?}");
}
