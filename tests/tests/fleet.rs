//! Fleets: the contract one instance offers a load balancer (`/ready`
//! while a pinned model loads, `X-Served-By`, the read-only shared store,
//! the scheduler's gauges in `/metrics`), and the reference deployment run
//! for real: two `hearth serve` instances sharing one store behind Debian's
//! HAProxy with `deploy/haproxy.cfg`, concurrent streamed requests reaching
//! both, one instance drained with SIGTERM while requests are in flight and
//! not one request failing, and the survivor taking the load.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hearth_e2e::{root, Server};
use serde_json::{json, Value};

/// Waits until `GET /ready` answers `want`, or panics with the log.
async fn wait_ready(s: &Server, want: u16, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let (status, body) = s.get("/ready").await;
        if status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/ready stayed {status} {body}:\n{}",
            s.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A writer instance pinning `tiny` before it exists (so its preload
/// retries until the model is created), then the model created.
async fn writer() -> Server {
    let a =
        Server::start_with(&[("HEARTH_INSTANCE", "hearth-a"), ("HEARTH_PRELOAD", "tiny")]).await;
    let (status, body) = a.get("/ready").await;
    assert_eq!((status, body), (503, json!({"status": "loading"})));
    a.create_tiny("tiny").await;
    wait_ready(&a, 200, Duration::from_secs(60)).await;
    a
}

/// A read-only instance on `writer`'s store, pinning `tiny`.
async fn reader(writer: &Server, extra: &[(&str, &str)]) -> Server {
    let store = writer.models.path().join("store");
    let store = store.to_str().expect("utf-8 path");
    let mut env = vec![
        ("HEARTH_INSTANCE", "hearth-b"),
        ("HEARTH_MODELS", store),
        ("HEARTH_READ_ONLY", "1"),
        ("HEARTH_PRELOAD", "tiny"),
    ];
    env.extend_from_slice(extra);
    let b = Server::start_with(&env).await;
    wait_ready(&b, 200, Duration::from_secs(60)).await;
    b
}

fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.trim().parse().ok())?
    })
}

#[tokio::test]
async fn one_instance_offers_the_fleet_contract() {
    let a = writer().await;
    let b = reader(&a, &[]).await;

    // Both name themselves on every response, errors included.
    for (s, name) in [(&a, "hearth-a"), (&b, "hearth-b")] {
        for path in ["/health", "/ready", "/api/tags", "/nope"] {
            let resp = s.client.get(s.url(path)).send().await.unwrap();
            assert_eq!(resp.headers()["x-served-by"], name, "{path}");
        }
    }

    // The pinned model is loaded forever on both.
    for s in [&a, &b] {
        let (status, ps) = s.get("/api/ps").await;
        assert_eq!(status, 200);
        let models = ps["models"].as_array().unwrap();
        assert_eq!(models.len(), 1, "{ps}");
        assert_eq!(models[0]["name"], "tiny:latest");
        assert!(
            models[0]["expires_at"].as_str().unwrap() > "2200",
            "pinned forever: {ps}"
        );
    }

    // The read-only instance serves the shared model and refuses every
    // write, in Ollama's error shape; the writer still writes.
    let (status, body) = b
        .post(
            "/api/generate",
            json!({"model": "tiny", "prompt": "hi", "stream": false, "options": {"num_predict": 4}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let refused = [
        (
            "/api/pull",
            json!({"model": "127.0.0.1:1/x/y", "insecure": true}),
        ),
        (
            "/api/push",
            json!({"model": "127.0.0.1:1/x/y", "insecure": true}),
        ),
        ("/api/create", json!({"model": "other", "from": "tiny"})),
        (
            "/api/copy",
            json!({"source": "tiny", "destination": "copy"}),
        ),
        (
            "/api/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000",
            json!({}),
        ),
    ];
    for (path, req) in refused {
        let (status, body) = b.post(path, req).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("read-only"),
            "{path}: {body}"
        );
    }
    let (status, body) = b.delete("/api/delete", json!({"model": "tiny"})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = a
        .post(
            "/api/copy",
            json!({"source": "tiny", "destination": "copy"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // ... and the reader sees what the writer wrote.
    let (_, tags) = b.get("/api/tags").await;
    assert_eq!(tags["models"].as_array().unwrap().len(), 2, "{tags}");

    // The gateway gauges come from the scheduler: a stream in flight on
    // `b` is one running request.
    let mut resp = b
        .client
        .post(b.url("/v1/completions"))
        .json(&json!({"model": "tiny", "prompt": "count", "max_tokens": 400, "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.chunk().await.unwrap().is_some());
    let text = b.get_text("/metrics").await;
    assert_eq!(gauge(&text, "vllm:num_requests_running"), Some(1.0));
    assert_eq!(gauge(&text, "vllm:num_requests_waiting"), Some(0.0));
    assert!(gauge(&text, "vllm:kv_cache_usage_perc").is_some());
    assert_eq!(gauge(&text, "hearth_ready"), Some(1.0));
    drop(resp);
}

#[tokio::test]
async fn public_metrics_lets_a_gateway_scrape_without_a_key() {
    let s = Server::start_with(&[("HEARTH_PUBLIC_METRICS", "1")]).await;
    let out = Command::new(hearth_e2e::hearth_bin())
        .args(["keys", "add", "client"])
        .env("HEARTH_HOME", s.home())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // Keys now guard the API ...
    assert_eq!(s.get("/api/tags").await.0, 401);
    let authed = s
        .client
        .get(s.url("/api/tags"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(authed.status(), 200);
    // ... but not the metrics.
    let (status, text) = s.get("/metrics").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.as_str().unwrap().contains("vllm:num_requests_waiting"));
}

// ---- HAProxy ---------------------------------------------------------------

/// HAProxy running `deploy/haproxy.cfg` with its ports replaced; killed on
/// drop, printing its log (one line per request, with retries) if the test
/// failed.
struct Haproxy {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.path().join("haproxy.log"));
            eprintln!("---- haproxy log ----\n{}", log.unwrap_or_default());
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The reference config, pointed at `servers` and listening on a free
/// loopback port.
fn start_haproxy(servers: [&str; 2]) -> Haproxy {
    let template = std::fs::read_to_string(root().join("deploy/haproxy.cfg")).unwrap();
    let port = free_port();
    let config = template
        .replace("bind :11434", &format!("bind 127.0.0.1:{port}"))
        .replace("127.0.0.1:11435", servers[0])
        .replace("127.0.0.1:11436", servers[1]);
    assert_ne!(config, template, "the template's addresses changed");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, config).unwrap();
    let log = std::fs::File::create(dir.path().join("haproxy.log")).unwrap();
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start haproxy");
    Haproxy {
        child,
        base: format!("http://127.0.0.1:{port}"),
        dir,
    }
}

fn haproxy_installed() -> bool {
    Command::new("haproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What one streamed request through the balancer came to.
#[derive(Debug)]
struct Outcome {
    served_by: String,
    /// When its last byte arrived.
    finished: Instant,
    /// `None` when it succeeded: 200 and NDJSON ending with `done: true`.
    failure: Option<String>,
}

async fn streamed_generate(client: reqwest::Client, url: String, num_predict: u32) -> Outcome {
    let req = json!({"model": "tiny", "prompt": "Once upon a time",
                     "options": {"num_predict": num_predict, "temperature": 0}});
    let resp = match client.post(&url).json(&req).send().await {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                served_by: String::new(),
                finished: Instant::now(),
                failure: Some(format!("request: {e}")),
            }
        }
    };
    let status = resp.status().as_u16();
    let served_by = resp
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => {
            return Outcome {
                served_by,
                finished: Instant::now(),
                failure: Some(format!("body: {e}")),
            }
        }
    };
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let ok = status == 200
        && lines.iter().all(|l| l.get("error").is_none())
        && lines.last().is_some_and(|l| l["done"] == true);
    Outcome {
        served_by,
        finished: Instant::now(),
        failure: (!ok).then(|| format!("{status}: {}", text.chars().take(300).collect::<String>())),
    }
}

/// Starts `n` streamed generations through the balancer at once.
fn wave(
    client: &reqwest::Client,
    url: &str,
    n: usize,
    num_predict: u32,
) -> Vec<tokio::task::JoinHandle<Outcome>> {
    (0..n)
        .map(|_| {
            tokio::spawn(streamed_generate(
                client.clone(),
                url.to_string(),
                num_predict,
            ))
        })
        .collect()
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<Outcome>>) -> Vec<Outcome> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

fn by_instance(outcomes: &[Outcome]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for o in outcomes {
        *counts.entry(o.served_by.clone()).or_default() += 1;
    }
    counts
}

fn logs(a: &Server, b: &Server) -> String {
    format!("---- a ----\n{}\n---- b ----\n{}", a.log(), b.log())
}

fn assert_no_failures(what: &str, outcomes: &[Outcome], a: &Server, b: &Server) {
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    assert!(
        failed.is_empty(),
        "{what}: {} of {} requests failed: {failed:#?}\n{}",
        failed.len(),
        outcomes.len(),
        logs(a, b)
    );
}

#[tokio::test]
async fn haproxy_fleet_drains_an_instance_without_failed_requests() {
    if !haproxy_installed() {
        // Loud: straight to the terminal, past the test harness's capture.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED haproxy_fleet_drains_an_instance_without_failed_requests: \
             `haproxy` is not installed (`make test` installs Debian's haproxy package) ***\n"
        );
        return;
    }
    let a = writer().await;
    let mut b = reader(&a, &[("HEARTH_SHUTDOWN_TIMEOUT", "300")]).await;
    let lb = start_haproxy([a.addr(), b.addr()]);
    let url = format!("{}/api/generate", lb.base);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    // HAProxy is up once it answers through to an instance.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !client
        .get(format!("{}/api/version", lb.base))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "haproxy did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Concurrent streams reach both instances (least connections).
    let first = collect(wave(&client, &url, 8, 24)).await;
    assert_no_failures("first wave", &first, &a, &b);
    let counts = by_instance(&first);
    assert!(
        counts.get("hearth-a").is_some_and(|&n| n > 0)
            && counts.get("hearth-b").is_some_and(|&n| n > 0),
        "both instances must serve traffic: {counts:?}"
    );

    // A second wave is in flight on both when `b` gets SIGTERM; new
    // requests keep coming while it drains.
    let mut in_flight = wave(&client, &url, 16, 400);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = b.get_text("/metrics").await;
        if gauge(&text, "vllm:num_requests_running").unwrap_or(0.0) >= 1.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "b never got a request:\n{}",
            logs(&a, &b)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.terminate();
    let drain_started = Instant::now();
    while drain_started.elapsed() < Duration::from_secs(3) {
        in_flight.extend(wave(&client, &url, 1, 16));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let during = collect(in_flight).await;
    assert_no_failures("across the drain", &during, &a, &b);
    let finished_by_b_while_draining = during
        .iter()
        .filter(|o| o.served_by == "hearth-b" && o.finished > drain_started)
        .count();
    assert!(
        finished_by_b_while_draining > 0,
        "b must have finished streams while draining: {:?}\n{}",
        by_instance(&during),
        b.log()
    );
    assert_eq!(
        b.wait_exit(Duration::from_secs(60)).await,
        Some(0),
        "b must exit 0 after draining:\n{}",
        b.log()
    );

    // The survivor takes all the load.
    let after = collect(wave(&client, &url, 6, 16)).await;
    assert_no_failures("after the drain", &after, &a, &b);
    assert_eq!(
        by_instance(&after),
        BTreeMap::from([("hearth-a".to_string(), 6)]),
        "the survivor serves everything"
    );
    drop(lb);
}
