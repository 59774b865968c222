//! The security suite (`security.md` §7): hostile input, browser attacks,
//! authentication, rate limits, slow clients, bad model files, metrics and
//! graceful shutdown — each against the real server.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hearth_e2e::{hearth_bin, tiny_gguf, Server};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ZERO_DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Sends raw bytes and returns everything the server answers until it
/// closes the connection (requests should say `Connection: close`).
async fn raw(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Runs `hearth keys ARGS` with `home` as `HEARTH_HOME`: (success, stdout).
fn keys(home: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(hearth_bin())
        .arg("keys")
        .args(args)
        .env("HEARTH_HOME", home)
        .output()
        .expect("run hearth keys");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

fn add_key(home: &Path, name: &str, scope: &str) -> String {
    let (ok, key) = keys(home, &["add", name, "--scope", scope]);
    assert!(ok && key.starts_with("hth_"), "keys add: {key}");
    key
}

async fn alive(s: &Server) {
    let (status, _) = s.get("/api/version").await;
    assert_eq!(status, 200, "server died:\n{}", s.log());
}

// ---- §7.1 names and digests ------------------------------------------------

#[tokio::test]
async fn traversal_in_names_and_digests_is_refused() {
    let s = Server::start().await;
    for name in [
        "../../etc/passwd",
        "a/../../b:c",
        "..",
        "%2e%2e/x",
        "/abs",
        "C:\\x",
        "a\u{0}b",
        "ns/mo del",
    ] {
        let (status, body) = s.post("/api/show", json!({"model": name})).await;
        assert!(
            status == 400 || status == 404,
            "show {name:?}: {status} {body}"
        );
        // Never an OS error or a path of ours (existence oracle).
        let text = body.to_string();
        assert!(
            !text.contains("os error") && !text.contains(s.models.path().to_str().unwrap()),
            "{body}"
        );
        let (status, _) = s
            .post("/api/copy", json!({"source": name, "destination": "x"}))
            .await;
        assert!(status == 400 || status == 404, "copy {name:?}: {status}");
        let (status, _) = s.delete("/api/delete", json!({"model": name})).await;
        assert!(status == 400 || status == 404, "delete {name:?}: {status}");
    }
    for digest in [
        "sha256:..%2F..%2Fetc%2Fpasswd",
        "sha256-..%2F..%2Fx",
        "sha256:abc",
        "sha512:00",
        &format!("sha256:{}", "A".repeat(64)),
        &format!("sha256:{}", "0".repeat(65)),
    ] {
        let (status, _) = s.post_raw(&format!("/api/blobs/{digest}"), "x").await;
        assert_eq!(status, 400, "POST blob {digest}");
        let resp = s
            .client
            .head(s.url(&format!("/api/blobs/{digest}")))
            .send()
            .await
            .unwrap();
        assert_ne!(resp.status(), 200, "HEAD blob {digest}");
    }
    alive(&s).await;
}

// ---- §7.2 bodies and types -------------------------------------------------

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let s = Server::start().await;
    let huge = vec![b' '; 64 * 1024 * 1024 + 1];
    for path in ["/api/chat", "/api/show"] {
        let (status, _) = s.post_raw(path, huge.clone()).await;
        assert_eq!(status, 413, "{path}");
    }
    alive(&s).await;
}

#[tokio::test]
async fn wrong_types_and_deep_nesting_are_client_errors() {
    let s = Server::start().await;
    let deep = "[".repeat(100_000);
    let bodies: Vec<(&str, String)> = vec![
        ("/api/show", json!({"model": 5}).to_string()),
        (
            "/api/chat",
            json!({"model": "m", "messages": {}}).to_string(),
        ),
        (
            "/api/generate",
            json!({"model": "m", "stream": "yes"}).to_string(),
        ),
        (
            "/api/chat",
            json!({"model": "m", "options": []}).to_string(),
        ),
        ("/api/copy", json!({"source": ["a"]}).to_string()),
        ("/api/show", deep),
        ("/api/chat", "{\"model\":\"x\"} trailing".to_string()),
        ("/api/chat", "\u{feff}{}".to_string()),
    ];
    for (path, body) in bodies {
        let (status, reply) = s.post_raw(path, body.clone()).await;
        assert!(
            (400..500).contains(&status),
            "{path} {}: {status} {reply}",
            &body[..body.len().min(40)]
        );
        assert!(reply["error"].is_string(), "{reply}");
    }
    alive(&s).await;
}

#[tokio::test]
async fn generation_caps_on_stop_and_num_predict() {
    let s = Server::start().await;
    let many: Vec<String> = (0..17).map(|i| format!("s{i}")).collect();
    let cases = [
        json!({"stop": many}),
        json!({"stop": ["x".repeat(257)]}),
        json!({"num_predict": -3}),
        json!({"num_predict": 1e9}),
    ];
    for options in cases {
        for path in ["/api/generate", "/api/chat"] {
            let (status, body) = s
                .post(path, json!({"model": "nope", "options": options}))
                .await;
            assert_eq!(status, 400, "{path} {options}: {body}");
        }
    }
    // Within the caps the request reaches the handler (unknown model).
    let (status, _) = s
        .post(
            "/api/generate",
            json!({"model": "nope", "options": {"stop": ["a"], "num_predict": 100}}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn huge_num_ctx_is_capped_by_hearth_max_context() {
    // The tiny model is trained on 512 tokens, so a cap of 256 is the
    // server's, not the model's.
    let s = Server::start_with(&[("HEARTH_MAX_CONTEXT", "256")]).await;
    s.create_tiny("tiny").await;
    // 2^32 + 1 would have wrapped to a 1-token context before the cap.
    for num_ctx in [json!(1_000_000_000_000_i64), json!(4_294_967_297_i64)] {
        let (status, body) = s
            .post(
                "/api/generate",
                json!({"model": "tiny", "prompt": "", "options": {"num_ctx": num_ctx}}),
            )
            .await;
        assert_eq!(status, 200, "num_ctx {num_ctx}: {body}");
        let (_, ps) = s.get("/api/ps").await;
        assert_eq!(ps["models"][0]["context_length"], 256, "{ps}");
    }
    alive(&s).await;
}

// ---- §7.7 browser attacks --------------------------------------------------

#[tokio::test]
async fn dns_rebinding_hosts_are_refused() {
    let s = Server::start().await;
    let addr = s.addr();
    let port = addr.rsplit(':').next().unwrap();
    for (method, path) in [
        ("GET", "/api/tags"),
        ("DELETE", "/api/delete"),
        ("OPTIONS", "/api/chat"),
        ("GET", "/nope"),
    ] {
        for host in [
            format!("attacker.example:{port}"),
            "rebind.attacker.example".to_string(),
            format!("localhost.attacker.com:{port}"),
            format!("127.0.0.1.nip.io:{port}"),
        ] {
            let resp = raw(
                addr,
                &format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            )
            .await;
            assert_eq!(status_of(&resp), 403, "{method} {path} Host: {host}");
            assert!(resp.contains("content-length: 0"), "{resp}");
        }
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("LOCALHOST.:{port}"),
    ] {
        let resp = raw(
            addr,
            &format!("GET /api/tags HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status_of(&resp), 200, "Host: {host}");
    }
    let resp = raw(
        addr,
        "GET /api/tags HTTP/1.1\r\nHost: localhost\r\nHost: attacker.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&resp), 400, "two Host headers");
}

#[tokio::test]
async fn cors_allows_listed_origins_only() {
    let s = Server::start_with(&[("HEARTH_ORIGINS", "https://app.example")]).await;
    s.create_tiny("tiny").await;
    let preflight = |origin: &str| {
        s.client
            .request(reqwest::Method::OPTIONS, s.url("/api/chat"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type,x-stainless-os",
            )
            .send()
    };
    let evil = preflight("https://evil.example").await.unwrap();
    assert_eq!(evil.status(), 403);
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    assert_eq!(evil.text().await.unwrap(), "");

    for origin in [
        "https://app.example",
        "http://localhost:5173",
        "tauri://localhost",
    ] {
        let ok = preflight(origin).await.unwrap();
        assert_eq!(ok.status(), 204, "{origin}");
        let h = ok.headers();
        assert_eq!(h["access-control-allow-origin"], origin);
        assert_eq!(h["access-control-max-age"], "43200");
        assert!(h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("X-Stainless-Os"));
        assert!(h.get("access-control-allow-credentials").is_none());
        let vary: Vec<_> = h.get_all("vary").iter().collect();
        assert!(vary.len() >= 3, "{vary:?}");
    }

    // A "simple" cross-site POST (no preflight) must have no effect.
    let resp = s
        .client
        .delete(s.url("/api/delete"))
        .header("Origin", "https://evil.example")
        .header("Content-Type", "text/plain")
        .body(r#"{"model":"tiny"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = s
        .client
        .delete(s.url("/api/delete"))
        .header("Sec-Fetch-Site", "cross-site")
        .body(r#"{"model":"tiny"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    for origin in ["null", "file://"] {
        let resp = s
            .client
            .get(s.url("/api/tags"))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{origin}");
    }
    let (_, tags) = s.get("/api/tags").await;
    assert_eq!(tags["models"].as_array().unwrap().len(), 1, "{tags}");

    // Allowed origin on a normal request: the exact origin comes back.
    let resp = s
        .client
        .get(s.url("/api/tags"))
        .header("Origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example"
    );
}

// ---- §7.8 authentication and rate limits -----------------------------------

#[tokio::test]
async fn api_keys_missing_invalid_revoked() {
    let s = Server::start().await;
    // No key yet: open, as Ollama is.
    assert_eq!(s.get("/api/tags").await.0, 200);
    let key = add_key(&s.home(), "laptop", "inference");
    let tags = |auth: Option<(&'static str, String)>| {
        let mut req = s.client.get(s.url("/api/tags"));
        if let Some((name, value)) = auth {
            req = req.header(name, value);
        }
        req.send()
    };
    let resp = tags(None).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("API key"),
        "{body}"
    );
    for bad in [
        format!("Bearer {key}x"),
        "Bearer ".to_string(),
        "Bearer hth_0000".to_string(),
        format!("Basic {key}"),
        key.clone(),
    ] {
        assert_eq!(
            tags(Some(("authorization", bad.clone())))
                .await
                .unwrap()
                .status(),
            401,
            "{bad}"
        );
    }
    // Refused before its body was read: the client must not reuse the
    // connection (with the key, the next request on it would be refused
    // by a hang-up instead).
    for _ in 0..5 {
        let resp = s
            .client
            .post(s.url("/api/generate"))
            .body(vec![b' '; 256 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["connection"], "close");
    }
    let resp = s
        .client
        .get(s.url(&format!("/api/tags?api_key={key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "keys in the query string are ignored");
    let bearer = format!("Bearer {key}");
    assert_eq!(
        tags(Some(("authorization", bearer.clone())))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        tags(Some(("x-api-key", key.clone())))
            .await
            .unwrap()
            .status(),
        200
    );
    // Public routes need no key.
    for path in ["/", "/health", "/ready"] {
        assert_eq!(s.get(path).await.0, 200, "{path}");
    }
    // Revoked: refused at once, no restart.
    let (ok, _) = keys(&s.home(), &["revoke", "laptop"]);
    assert!(ok);
    let other = add_key(&s.home(), "other", "inference");
    assert_eq!(
        tags(Some(("authorization", bearer)))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        tags(Some(("authorization", format!("Bearer {other}"))))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn every_api_route_needs_a_key() {
    let s = Server::start().await;
    add_key(&s.home(), "k", "admin");
    let blob = format!("/api/blobs/{ZERO_DIGEST}");
    let routes: Vec<(reqwest::Method, &str)> = vec![
        (reqwest::Method::GET, "/api/version"),
        (reqwest::Method::HEAD, "/api/version"),
        (reqwest::Method::GET, "/api/tags"),
        (reqwest::Method::GET, "/api/ps"),
        (reqwest::Method::POST, "/api/show"),
        (reqwest::Method::POST, "/api/copy"),
        (reqwest::Method::DELETE, "/api/delete"),
        (reqwest::Method::POST, "/api/generate"),
        (reqwest::Method::POST, "/api/chat"),
        (reqwest::Method::POST, "/api/create"),
        (reqwest::Method::HEAD, &blob),
        (reqwest::Method::POST, &blob),
        (reqwest::Method::GET, "/metrics"),
    ];
    for (method, path) in routes {
        let resp = s
            .client
            .request(method.clone(), s.url(path))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method} {path}");
    }
    assert_eq!(s.get("/nope").await.0, 404, "unknown paths stay 404");

    // The CLI sends HEARTH_API_KEY.
    let key = add_key(&s.home(), "cli", "inference");
    let list = |key: Option<&str>| {
        let mut cmd = Command::new(hearth_bin());
        cmd.arg("list")
            .env("HEARTH_HOST", s.addr())
            .env_remove("HEARTH_API_KEY");
        if let Some(key) = key {
            cmd.env("HEARTH_API_KEY", key);
        }
        cmd.output().expect("run hearth list")
    };
    let out = list(None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("API key"));
    let out = list(Some(&key));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn inference_keys_cannot_manage_models() {
    let s = Server::start().await;
    let user = format!("Bearer {}", add_key(&s.home(), "user", "inference"));
    let admin = format!("Bearer {}", add_key(&s.home(), "admin", "admin"));
    let send = |auth: &str, method: reqwest::Method, path: &str, body: Value| {
        s.client
            .request(method, s.url(path))
            .header("authorization", auth)
            .json(&body)
            .send()
    };
    let blob = format!("/api/blobs/{ZERO_DIGEST}");
    let admin_only: Vec<(reqwest::Method, &str, Value)> = vec![
        (
            reqwest::Method::DELETE,
            "/api/delete",
            json!({"model": "x"}),
        ),
        (
            reqwest::Method::POST,
            "/api/copy",
            json!({"source": "x", "destination": "y"}),
        ),
        (
            reqwest::Method::POST,
            "/api/create",
            json!({"model": "x", "files": {}}),
        ),
        (reqwest::Method::HEAD, &blob, Value::Null),
    ];
    for (method, path, body) in admin_only {
        let resp = send(&user, method.clone(), path, body.clone())
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "inference {method} {path}");
        let resp = send(&admin, method.clone(), path, body).await.unwrap();
        assert!(
            ![401, 403].contains(&resp.status().as_u16()),
            "admin {method} {path}: {}",
            resp.status()
        );
    }
    let resp = send(
        &user,
        reqwest::Method::POST,
        "/api/show",
        json!({"model": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 404, "inference keys may show");
}

#[tokio::test]
async fn exposed_bind_needs_a_key_or_the_insecure_flag() {
    let home = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(hearth_bin())
            .arg("serve")
            .args(extra)
            .env("HEARTH_HOST", "0.0.0.0:0")
            .env("HEARTH_HOME", home.path())
            .env("HEARTH_MODELS", models.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hearth serve")
    };
    let out = run(&[]).wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to listen on 0.0.0.0"), "{err}");

    // With the flag it starts, and says so loudly.
    let mut child = run(&["--insecure-no-auth"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(child.try_wait().unwrap().is_none(), "should be running");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WITHOUT AUTHENTICATION"), "{err}");

    // With a key it starts without the flag.
    add_key(home.path(), "lan", "inference");
    let mut child = run(&[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(child.try_wait().unwrap().is_none(), "should be running");
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let s = Server::start_with(&[("HEARTH_RATE_LIMIT", "5")]).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let resp = s.client.get(s.url("/api/tags")).send().await.unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            let retry: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=12).contains(&retry), "Retry-After {retry}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body, json!({"error": "rate limit exceeded"}));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    // Liveness probes are not rate limited.
    assert_eq!(s.get("/health").await.0, 200);
}

#[tokio::test]
async fn rate_limit_is_per_key() {
    let s = Server::start_with(&[("HEARTH_RATE_LIMIT", "2")]).await;
    let a = format!("Bearer {}", add_key(&s.home(), "a", "inference"));
    let b = format!("Bearer {}", add_key(&s.home(), "b", "inference"));
    let get = |auth: &str| {
        s.client
            .get(s.url("/api/tags"))
            .header("authorization", auth)
            .send()
    };
    for _ in 0..2 {
        assert_eq!(get(&a).await.unwrap().status(), 200);
    }
    assert_eq!(get(&a).await.unwrap().status(), 429);
    assert_eq!(
        get(&b).await.unwrap().status(),
        200,
        "other keys unaffected"
    );
}

// ---- §7.4 slow clients -----------------------------------------------------

#[tokio::test]
async fn slowloris_and_idle_connections_are_dropped() {
    let s = Server::start_with(&[("HEARTH_HEADER_TIMEOUT", "2")]).await;
    let addr = s.addr().to_string();
    // One byte a second: never a complete head.
    let slow = tokio::spawn({
        let addr = addr.clone();
        async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            let started = Instant::now();
            let head = b"GET /api/tags HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
            for b in head {
                if stream.write_all(&[*b]).await.is_err() {
                    return started.elapsed();
                }
                let mut buf = [0u8; 256];
                match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
                    Ok(Ok(_)) => {} // e.g. a 408 before the close
                    Err(_) => {}
                }
            }
            Duration::MAX
        }
    });
    // Connected but silent.
    let idle = tokio::spawn(async move {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let started = Instant::now();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut buf)).await;
        started.elapsed()
    });
    // Meanwhile a normal client is served. Fresh connections each time:
    // the server also closes pooled connections idle for the timeout.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let tags = || fresh.get(s.url("/api/tags")).send();
    assert_eq!(tags().await.unwrap().status(), 200);
    let slow = slow.await.unwrap();
    assert!(
        slow < Duration::from_secs(6),
        "slow client kept for {slow:?}"
    );
    let idle = idle.await.unwrap();
    assert!(
        idle < Duration::from_secs(6),
        "idle client kept for {idle:?}"
    );
    assert_eq!(tags().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_stalled_request_body_gets_408_and_is_dropped() {
    let s = Server::start_with(&[("HEARTH_BODY_TIMEOUT", "1")]).await;
    let mut stream = TcpStream::connect(s.addr()).await.unwrap();
    let head = "POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(br#"{"model":"#).await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was kept open");
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "dropped after {elapsed:?}"
    );
    let response = String::from_utf8_lossy(&buf);
    assert_eq!(status_of(&response), 408, "{response}");
    assert!(
        response.to_lowercase().contains("connection: close"),
        "{response}"
    );
    alive(&s).await;
}

#[tokio::test]
async fn a_slow_but_steady_upload_is_not_cut_off() {
    let s = Server::start_with(&[("HEARTH_BODY_TIMEOUT", "1")]).await;
    let chunks: Vec<Vec<u8>> = (0..8).map(|i| vec![b'a' + i; 1000]).collect();
    let digest = digest_of(&chunks.concat());
    let (tx, body) = manual_body();
    // Three seconds in all, well past the timeout, but never idle for it.
    let feeder = tokio::spawn(async move {
        for chunk in chunks {
            tx.send(chunk).await.unwrap();
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    });
    let (status, body) = s.post_raw(&format!("/api/blobs/{digest}"), body).await;
    assert_eq!(status, 201, "{body}");
    feeder.await.unwrap();
}

// ---- §7.6 bad model files --------------------------------------------------

#[tokio::test]
async fn malformed_gguf_files_are_refused_and_the_server_survives() {
    let s = Server::start().await;
    let tiny = std::fs::read(tiny_gguf()).unwrap();
    let mut header_only = b"GGUF".to_vec();
    header_only.extend_from_slice(&3u32.to_le_bytes());
    header_only.extend_from_slice(&1u64.to_le_bytes()); // one tensor
    header_only.extend_from_slice(&0u64.to_le_bytes()); // no metadata
    let mut huge_counts = b"GGUF".to_vec();
    huge_counts.extend_from_slice(&3u32.to_le_bytes());
    huge_counts.extend_from_slice(&u64::MAX.to_le_bytes());
    huge_counts.extend_from_slice(&u64::MAX.to_le_bytes());
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("magic only", b"GGUF".to_vec()),
        ("header only", header_only),
        ("huge counts", huge_counts),
        ("wrong magic", b"GGML\x03\x00\x00\x00garbage".to_vec()),
        ("zip", b"PK\x03\x04\x14\x00\x00\x00".to_vec()),
        ("truncated tensors", tiny[..tiny.len() / 2].to_vec()),
        ("truncated header", tiny[..40].to_vec()),
    ];
    for (what, bytes) in files {
        let digest = digest_of(&bytes);
        let (status, _) = s.post_raw(&format!("/api/blobs/{digest}"), bytes).await;
        assert!(status == 201 || status == 200, "{what}: upload {status}");
        let (status, body) = s
            .post(
                "/api/create",
                json!({"model": "bad", "files": {"m.gguf": digest}, "stream": false}),
            )
            .await;
        assert_eq!(status, 400, "{what}: {body}");
        alive(&s).await;
    }
    let (_, tags) = s.get("/api/tags").await;
    assert_eq!(tags["models"], json!([]), "no bad model was created");
}

// ---- observability ---------------------------------------------------------

/// One sample of the text exposition format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A small parser of the Prometheus text format 0.0.4 that checks what
/// scrapers rely on: valid names, a `# TYPE` before each family's samples,
/// well-formed labels and numbers, and consistent histograms.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let is_name = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            assert!(is_name(name), "bad name {name}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                types.insert(name.into(), kind.into()).is_none(),
                "duplicate {line}"
            );
            continue;
        }
        if line.starts_with('#') {
            assert!(line.starts_with("# HELP "), "{line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample line");
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}').expect(line))),
        };
        assert!(is_name(name), "bad name in {line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "no # TYPE before {line}");
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    check_histograms(&samples, &types);
    samples
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").expect("label");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("unterminated label value") {
                (_, '\\') => match chars.next().expect("escape").1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        labels.insert(name.to_string(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels
}

fn check_histograms(samples: &[Sample], types: &BTreeMap<String, String>) {
    for (family, _) in types.iter().filter(|(_, t)| *t == "histogram") {
        let mut buckets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let mut key = s.labels.clone();
            let le = key.remove("le").expect("le label");
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            buckets
                .entry(format!("{key:?}"))
                .or_default()
                .push((le, s.value));
        }
        for (series, list) in buckets {
            assert!(
                list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{series}"
            );
            let count = samples
                .iter()
                .find(|s| {
                    s.name == format!("{family}_count") && format!("{:?}", s.labels) == series
                })
                .expect("_count");
            assert_eq!(
                list.last().unwrap(),
                &(f64::INFINITY, count.value),
                "{series}"
            );
        }
    }
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

#[tokio::test]
async fn metrics_parse_and_count_requests_and_tokens() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "hi", "stream": false, "options": {"num_predict": 4}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let resp = s.client.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    let samples = parse_prometheus(&text);
    let generate = [
        ("method", "POST"),
        ("route", "/api/generate"),
        ("status", "200"),
    ];
    assert_eq!(
        value(&samples, "hearth_http_requests_total", &generate),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "hearth_http_request_duration_seconds_count",
            &generate
        ),
        Some(1.0)
    );
    let predicted = value(&samples, "llamacpp:tokens_predicted_total", &[]).unwrap();
    assert!(predicted >= 1.0, "{text}");
    assert_eq!(
        value(&samples, "vllm:generation_tokens_total", &[]),
        Some(predicted)
    );
    assert!(value(&samples, "llamacpp:prompt_tokens_total", &[]).unwrap() >= 1.0);
    assert_eq!(value(&samples, "vllm:num_requests_running", &[]), Some(0.0));
    assert_eq!(value(&samples, "vllm:num_requests_waiting", &[]), Some(0.0));
    assert_eq!(value(&samples, "hearth_models_loaded", &[]), Some(1.0));
    assert!(
        value(
            &samples,
            "hearth_model_memory_bytes",
            &[("model", "tiny:latest"), ("memory", "total")]
        )
        .unwrap()
            > 0.0,
        "{text}"
    );
    assert_eq!(value(&samples, "hearth_ready", &[]), Some(1.0));
    // Responses carry a request id.
    let resp = s
        .client
        .get(s.url("/health"))
        .header("x-request-id", "abc-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-1");
}

// ---- graceful shutdown -----------------------------------------------------

/// A request body the test feeds by hand, so a request stays in flight.
fn manual_body() -> (tokio::sync::mpsc::Sender<Vec<u8>>, reqwest::Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    (tx, reqwest::Body::wrap_stream(stream))
}

#[tokio::test]
async fn sigterm_drains_then_exits_zero() {
    let mut s = Server::start_with(&[("HEARTH_SHUTDOWN_TIMEOUT", "30")]).await;
    let digest = digest_of(b"hello world");
    let (tx, body) = manual_body();
    let upload = tokio::spawn(
        s.client
            .post(s.url(&format!("/api/blobs/{digest}")))
            .body(body)
            .send(),
    );
    tx.send(b"hello ".to_vec()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (status, body) = s.get("/ready").await;
    assert_eq!((status, body), (503, json!({"status": "draining"})));
    assert_eq!(s.get("/health").await.0, 200);
    let (status, body) = s.get("/api/tags").await;
    assert_eq!(
        (status, body),
        (503, json!({"error": "server is shutting down"}))
    );
    let metrics = s.get_text("/metrics").await;
    assert_eq!(
        value(&parse_prometheus(&metrics), "hearth_ready", &[]),
        Some(0.0)
    );
    assert!(s.is_running(), "in-flight request must hold the server");

    // The request in flight finishes normally, then the server exits 0.
    tx.send(b"world".to_vec()).await.unwrap();
    drop(tx);
    let resp = upload.await.unwrap().unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        s.wait_exit(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        s.log()
    );
}

#[tokio::test]
async fn sigterm_deadline_cancels_stuck_requests() {
    let mut s = Server::start_with(&[("HEARTH_SHUTDOWN_TIMEOUT", "1")]).await;
    let (tx, body) = manual_body();
    let upload = tokio::spawn(
        s.client
            .post(s.url(&format!("/api/blobs/{ZERO_DIGEST}")))
            .body(body)
            .send(),
    );
    tx.send(b"never finished".to_vec()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    s.terminate();
    assert_eq!(
        s.wait_exit(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        s.log()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(tx);
    let _ = upload.await;
}

// ---- the keys command ------------------------------------------------------

#[test]
fn keys_cli_stores_only_hashes() {
    let home = tempfile::tempdir().unwrap();
    let key = add_key(home.path(), "laptop", "admin");
    let (ok, list) = keys(home.path(), &["list"]);
    assert!(ok);
    assert!(list.contains("laptop") && list.contains("admin"), "{list}");
    assert!(!list.contains(&key));
    let file = home.path().join("keys.json");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&key[4..]), "plaintext key on disk");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!keys(home.path(), &["add", "laptop"]).0, "duplicate name");
    assert!(!keys(home.path(), &["add", "x", "--scope", "root"]).0);
    assert!(keys(home.path(), &["revoke", "laptop"]).0);
    assert!(!keys(home.path(), &["revoke", "laptop"]).0);
}

// ---- §7.4 disconnects and draining streams ---------------------------------

/// Starts a long streamed generation and returns the response after its
/// first few lines have arrived.
async fn long_stream(s: &Server) -> reqwest::Response {
    let mut resp = s
        .client
        .post(s.url("/api/generate"))
        .json(&json!({"model": "tiny", "prompt": "count", "options": {"num_predict": 30000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for _ in 0..3 {
        assert!(resp.chunk().await.unwrap().is_some());
    }
    resp
}

async fn running_generations(s: &Server) -> f64 {
    let text = s.get_text("/metrics").await;
    value(&parse_prometheus(&text), "vllm:num_requests_running", &[]).unwrap()
}

#[tokio::test]
async fn disconnect_mid_stream_cancels_the_generation() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let resp = long_stream(&s).await;
    drop(resp);
    let deadline = Instant::now() + Duration::from_secs(5);
    while running_generations(&s).await > 0.0 {
        assert!(
            Instant::now() < deadline,
            "generation kept running:\n{}",
            s.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The runner is free for the next request.
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "hi", "stream": false, "options": {"num_predict": 2}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn sigterm_with_a_stream_in_flight_exits_zero_and_stops_runners() {
    let mut s = Server::start_with(&[("HEARTH_SHUTDOWN_TIMEOUT", "1")]).await;
    s.create_tiny("tiny").await;
    let mut resp = long_stream(&s).await;
    s.terminate();
    // The stream ends (finished or cut at the deadline; the tiny model's
    // 512-token context may end it first) and the server exits 0.
    let reader = tokio::spawn(async move { while let Ok(Some(_)) = resp.chunk().await {} });
    assert_eq!(
        s.wait_exit(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        s.log()
    );
    let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
    #[cfg(target_os = "linux")]
    {
        let store = s.models.path().to_string_lossy().to_string();
        let deadline = Instant::now() + Duration::from_secs(5);
        while runner_processes(&store) > 0 {
            assert!(Instant::now() < deadline, "runner outlived the server");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Processes whose command line mentions `needle` (the test's store).
#[cfg(target_os = "linux")]
fn runner_processes(needle: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmd| {
            let cmd = String::from_utf8_lossy(cmd);
            cmd.contains("runner") && cmd.contains(needle)
        })
        .count()
}

#[tokio::test]
async fn compatible_apis_refuse_in_their_own_envelopes() {
    let s = Server::start().await;
    let key = add_key(&s.home(), "laptop", "inference");
    let body =
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 4});
    let resp = s
        .client
        .post(s.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("API key"),
        "{v}"
    );
    assert!(v["error"]["type"].is_string(), "OpenAI envelope: {v}");
    let resp = s
        .client
        .post(s.url("/v1/messages"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["type"], "error", "Anthropic envelope: {v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("API key"),
        "{v}"
    );
    // With the key, the request reaches the handler (unknown model).
    let resp = s
        .client
        .post(s.url("/v1/messages"))
        .header("x-api-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
