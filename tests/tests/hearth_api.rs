//! Hearth's own endpoints under `/hearth/` and the web UI's files at `/ui/`
//! over HTTP against the real binary: who may call what (the UI is public,
//! `/hearth/*` is admin-only once keys exist), keys made through the API
//! that switch authentication on and off at once, settings saved to the
//! config file (never over `/dev/null`, LAN refused without a key), the
//! memory fit of a real GGUF, and the request log.

use std::process::Command;

use hearth_e2e::{hearth_bin, Server};
use serde_json::{json, Value};

fn add_key(server: &Server, name: &str, scope: &str) -> String {
    let out = Command::new(hearth_bin())
        .args(["keys", "add", name, "--scope", scope])
        .env("HEARTH_HOME", server.home())
        .output()
        .expect("run hearth keys");
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && key.starts_with("hth_"),
        "keys add: {key}"
    );
    key
}

async fn call(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = s.client.request(method, s.url(path));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn hearth_routes_need_an_admin_key_and_the_ui_stays_public() {
    let s = Server::start().await;
    let admin = add_key(&s, "admin", "admin");
    let inference = add_key(&s, "chat", "inference");

    let ui = s.client.get(s.url("/ui/")).send().await.unwrap();
    assert_eq!(ui.status(), 200, "the UI page loads without a key");
    let csp = ui.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'self'")
            && csp.ends_with(
                "frame-ancestors 'self' tauri://localhost http://tauri.localhost https://tauri.localhost"
            ),
        "{csp}"
    );
    assert_eq!(ui.headers()["cache-control"], "no-cache");
    // Only the CSP decides framing (the desktop window frames the UI).
    assert!(ui.headers().get("x-frame-options").is_none());
    assert_eq!(s.get("/ui/no-such-file.js").await.0, 404);

    for path in [
        "/hearth/system",
        "/hearth/keys",
        "/hearth/settings",
        "/hearth/requests",
        "/hearth/fit?model=x",
    ] {
        assert_eq!(
            call(&s, reqwest::Method::GET, path, None, None).await.0,
            401,
            "{path} without a key"
        );
        let (status, body) = call(&s, reqwest::Method::GET, path, Some(&inference), None).await;
        assert_eq!(status, 403, "{path} with an inference key: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("needs admin"),
            "{body}"
        );
    }
    let (status, system) = call(
        &s,
        reqwest::Method::GET,
        "/hearth/system",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{system}");
    assert!(system["cpu_cores"].as_u64().unwrap() >= 1, "{system}");
    assert!(system["memory_total"].as_u64().unwrap() >= system["memory_used"].as_u64().unwrap());
    assert!(system["disk"]["total"].as_u64().unwrap() > 0, "{system}");
    assert_eq!(
        call(
            &s,
            reqwest::Method::DELETE,
            "/hearth/keys/chat",
            Some(&inference),
            None
        )
        .await
        .0,
        403
    );
}

#[tokio::test]
async fn keys_made_through_the_api_switch_authentication_on_and_off() {
    let s = Server::start().await;
    let (status, created) = call(
        &s,
        reqwest::Method::POST,
        "/hearth/keys",
        None,
        Some(json!({"name": "ui", "scope": "admin"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("hth_") && key.len() == 68, "{key}");
    assert_eq!(
        s.get("/api/tags").await.0,
        401,
        "the first key turns keys on at once"
    );

    let (status, list) = call(&s, reqwest::Method::GET, "/hearth/keys", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(list["keys"][0]["name"], "ui");
    assert_eq!(list["keys"][0]["scope"], "admin");
    assert!(
        !list.to_string().contains(&key[4..]),
        "the key is never listed: {list}"
    );

    let dup = call(
        &s,
        reqwest::Method::POST,
        "/hearth/keys",
        Some(&key),
        Some(json!({"name": "ui"})),
    )
    .await;
    assert_eq!(dup.0, 409, "{}", dup.1);
    let bad = call(
        &s,
        reqwest::Method::POST,
        "/hearth/keys",
        Some(&key),
        Some(json!({"name": "a b"})),
    )
    .await;
    assert_eq!(bad.0, 400, "{}", bad.1);
    assert_eq!(
        call(
            &s,
            reqwest::Method::DELETE,
            "/hearth/keys/nobody",
            Some(&key),
            None
        )
        .await
        .0,
        404
    );

    assert_eq!(
        call(
            &s,
            reqwest::Method::DELETE,
            "/hearth/keys/ui",
            Some(&key),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(s.get("/api/tags").await.0, 200, "no keys left: open again");
    // The CLI sees the same file.
    let out = Command::new(hearth_bin())
        .args(["keys", "list"])
        .env("HEARTH_HOME", s.home())
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ui "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn settings_are_saved_to_the_config_file() {
    // The test servers read /dev/null as their config: it is never replaced.
    let s = Server::start().await;
    let (status, body) = call(
        &s,
        reqwest::Method::PUT,
        "/hearth/settings",
        None,
        Some(json!({"keep_alive": "10m"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{body}"
    );
    drop(s);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "max_loaded_models = 2\n").unwrap();
    let s = Server::start_with(&[("HEARTH_CONFIG", config.to_str().unwrap())]).await;
    let (status, now) = call(&s, reqwest::Method::GET, "/hearth/settings", None, None).await;
    assert_eq!(status, 200, "{now}");
    assert_eq!(now["keep_alive"], "5m");
    assert_eq!(now["context_length"], 4096);
    assert_eq!(now["lan"], false);
    assert_eq!(now["pending"], json!([]));

    let update = json!({"keep_alive": "10m", "context_length": 8192, "num_parallel": 2, "origins": ["https://app.example", " "]});
    let (status, saved) = call(
        &s,
        reqwest::Method::PUT,
        "/hearth/settings",
        None,
        Some(update),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["keep_alive"], "10m");
    assert_eq!(saved["origins"], json!(["https://app.example"]));
    let mut pending: Vec<String> = serde_json::from_value(saved["pending"].clone()).unwrap();
    pending.sort();
    assert_eq!(
        pending,
        ["context_length", "keep_alive", "num_parallel", "origins"]
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("keep_alive = \"10m\""), "{text}");
    assert!(text.contains("context_length = 8192"), "{text}");
    assert!(
        text.contains("max_loaded_models = 2"),
        "other settings stay: {text}"
    );

    let lan = call(
        &s,
        reqwest::Method::PUT,
        "/hearth/settings",
        None,
        Some(json!({"lan": true})),
    )
    .await;
    assert_eq!(lan.0, 409, "LAN without a key: {}", lan.1);
    assert!(lan.1["error"].as_str().unwrap().contains("API key"));
    for bad in [
        json!({"keep_alive": "soon"}),
        json!({"num_parallel": 0}),
        json!({"context_length": 10}),
        json!({"origins": ["nope"]}),
    ] {
        assert_eq!(
            call(
                &s,
                reqwest::Method::PUT,
                "/hearth/settings",
                None,
                Some(bad.clone())
            )
            .await
            .0,
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn fit_reads_the_gguf_and_the_log_lists_requests() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let (status, fit) = call(
        &s,
        reqwest::Method::GET,
        "/hearth/fit?model=tiny&num_ctx=256",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{fit}");
    assert_eq!(fit["source"], "local");
    assert_eq!(fit["num_ctx"], 256);
    // The tiny model: 2 layers, 2 KV heads of 32 dims for K and for V, f16.
    assert_eq!(fit["kv_cache"], 2 * 2 * (32 + 32) * 256 * 2);
    assert_eq!(fit["verdict"], "fits");
    let total = fit["weights"].as_u64().unwrap()
        + fit["kv_cache"].as_u64().unwrap()
        + fit["overhead"].as_u64().unwrap();
    assert_eq!(fit["total"].as_u64().unwrap(), total);

    let (status, err) = call(
        &s,
        reqwest::Method::GET,
        "/hearth/fit?model=127.0.0.1:9/none/x&insecure=true",
        None,
        None,
    )
    .await;
    assert_eq!(status, 500, "{err}");
    assert!(err["error"].is_string(), "{err}");
    assert_eq!(s.get("/hearth/fit").await.0, 400, "model is required");

    let (_, log) = s.get("/hearth/requests").await;
    let paths: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"/hearth/fit"), "{paths:?}");
    assert!(paths.contains(&"/api/create"), "{paths:?}");
    let first = &log["requests"][0];
    assert!(
        first["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{first}"
    );
}
