//! Server settings from the environment and from the config file.

use hearth_e2e::Server;
use serde_json::json;

#[tokio::test]
async fn config_file_sets_what_the_environment_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        "context_length = 256\nkeep_alive = \"-1\"\nkv_cache_type = \"q8_0\"\n",
    )
    .unwrap();
    let s = Server::start_with(&[
        ("HEARTH_CONFIG", file.to_str().unwrap()),
        ("HEARTH_KEEP_ALIVE", "1m"),
    ])
    .await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "Hi", "stream": false, "options": {"num_predict": 4}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let ps = s.get("/api/ps").await.1;
    assert_eq!(ps["models"][0]["context_length"], 256, "from the file");
    let expires = ps["models"][0]["expires_at"].as_str().unwrap();
    assert!(
        !expires.starts_with("23"),
        "the environment's 1m wins over the file's forever: {expires}"
    );
}

#[tokio::test]
async fn a_bad_config_file_stops_the_server_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "colour = \"red\"\n").unwrap();
    let out = std::process::Command::new(hearth_e2e::hearth_bin())
        .arg("serve")
        .env("HEARTH_CONFIG", &file)
        .env("HEARTH_HOST", "127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown setting \"colour\""));
}

#[tokio::test]
async fn a_full_queue_answers_503() {
    let s = Server::start_with(&[("HEARTH_MAX_QUEUE", "1")]).await;
    s.create_tiny("tiny").await;
    let long = json!({"model": "tiny", "prompt": "Hello", "stream": false, "options": {"num_predict": 400, "temperature": 0}});
    let results =
        futures_util::future::join_all((0..4).map(|_| s.post("/api/generate", long.clone()))).await;
    let busy: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 503)
        .collect();
    assert!(!busy.is_empty(), "{results:?}");
    assert_eq!(
        busy[0].1["error"],
        "server busy, please try again.  maximum pending requests exceeded"
    );
    assert!(results.iter().any(|(status, _)| *status == 200));
}

#[tokio::test]
async fn flash_attention_off_still_generates() {
    let s = Server::start_with(&[("HEARTH_FLASH_ATTENTION", "0")]).await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post("/api/generate", json!({"model": "tiny", "prompt": "Hi", "stream": false, "options": {"num_predict": 3}}))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The nice value of a process, from `/proc/<pid>/stat` (field 19).
fn nice_of(pid: u32) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    after_comm.split(' ').nth(16).unwrap().parse().unwrap()
}

#[tokio::test]
async fn runners_compute_at_a_lower_priority_unless_told_otherwise() {
    for (setting, lower) in [(None, 5), (Some("0"), 0), (Some("12"), 12)] {
        let env: Vec<(&str, &str)> = setting
            .map(|v| vec![("HEARTH_RUNNER_NICE", v)])
            .unwrap_or_default();
        let s = Server::start_with(&env).await;
        s.create_tiny("tiny").await;
        let (status, body) = s
            .post(
                "/api/generate",
                json!({"model": "tiny", "prompt": "hi", "stream": false, "options": {"num_predict": 2}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let runners = s.runner_pids();
        assert_eq!(runners.len(), 1, "{runners:?}");
        let server = nice_of(s.pid());
        assert_eq!(
            nice_of(runners[0]) - server,
            lower,
            "HEARTH_RUNNER_NICE={setting:?}"
        );
    }
}
