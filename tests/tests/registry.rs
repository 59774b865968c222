//! Pull and push end to end: `hearth push` to a real registry (Debian's
//! `docker-registry`, CNCF Distribution) and `hearth pull` into a fresh
//! store, then generation; resume after a dropped client; a corrupted blob
//! in the registry; a hostile manifest from a tiny in-test registry; and the
//! API's error strings.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hearth_e2e::{hearth_bin, Server};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A `docker-registry serve` on loopback with its storage in a temp dir.
struct Registry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
}

impl Registry {
    async fn start() -> Registry {
        assert!(
            Path::new(REGISTRY_BIN).is_file(),
            "{REGISTRY_BIN} is missing: install Debian's docker-registry package \
             (`make test` does: apt-get install docker-registry)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let host = format!("127.0.0.1:{}", free_port());
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
             delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry { child, host, dir };
        registry.wait_ready().await;
        registry
    }

    async fn wait_ready(&self) {
        let url = format!("http://{}/v2/", self.host);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("docker-registry did not start:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Where Distribution's filesystem driver keeps a blob's bytes.
    fn blob_data(&self, hex: &str) -> PathBuf {
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a `hearth` client command against `server`.
fn hearth(server: &Server, args: &[&str]) -> Output {
    Command::new(hearth_bin())
        .args(args)
        .env("HEARTH_HOST", server.addr())
        .stdin(Stdio::null())
        .output()
        .expect("run hearth")
}

fn store_of(server: &Server) -> PathBuf {
    server.models.path().join("store")
}

/// The manifest file of a `host/ns/model:tag` name in a server's store.
fn manifest_file(server: &Server, host: &str, rest: &str) -> PathBuf {
    store_of(server).join("manifests").join(host).join(rest)
}

fn blob_file(server: &Server, hex: &str) -> PathBuf {
    store_of(server).join("blobs").join(format!("sha256-{hex}"))
}

/// The hex digests a manifest file references (layers, then config).
fn digests_of(manifest: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(manifest).expect("manifest JSON");
    let mut out: Vec<String> = v["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    out.push(v["config"]["digest"].as_str().unwrap().to_string());
    out.iter()
        .map(|d| d.strip_prefix("sha256:").unwrap().to_string())
        .collect()
}

/// A server holding the tiny model pushed to `registry` as `test/tiny`.
async fn pushed(registry: &Registry) -> (Server, String) {
    let name = format!("{}/test/tiny:latest", registry.host);
    let source = Server::start().await;
    source.create_tiny(&name).await;
    let out = hearth(&source, &["push", &name, "--insecure"]);
    assert!(
        out.status.success(),
        "push failed: {}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        source.log(),
        registry.log()
    );
    (source, name)
}

#[tokio::test]
async fn push_then_pull_through_a_real_registry() {
    let registry = Registry::start().await;
    let (source, name) = pushed(&registry).await;
    let pushed_manifest =
        std::fs::read(manifest_file(&source, &registry.host, "test/tiny/latest")).unwrap();

    // Pushing again finds every blob present (HEAD) and still succeeds.
    let again = hearth(&source, &["push", &name, "--insecure"]);
    assert!(again.status.success());

    let target = Server::start().await;
    let out = hearth(&target, &["pull", &name, "--insecure"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pull failed: {stderr}\n{}",
        target.log()
    );
    for phase in [
        "pulling manifest",
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ] {
        assert!(stderr.contains(phase), "{phase} missing from:\n{stderr}");
    }

    let pulled = std::fs::read(manifest_file(&target, &registry.host, "test/tiny/latest")).unwrap();
    assert_eq!(pulled, pushed_manifest, "manifest bytes differ");
    for hex in digests_of(&pulled) {
        let a = std::fs::read(blob_file(&source, &hex)).unwrap();
        let b = std::fs::read(blob_file(&target, &hex)).unwrap();
        assert!(a == b, "blob {hex} differs");
    }

    let (status, body) = target
        .post(
            "/api/generate",
            json!({"model": name, "prompt": "hi", "stream": false, "options": {"num_predict": 4}}),
        )
        .await;
    assert_eq!(status, 200, "{body}\n{}", target.log());
    assert_eq!(body["done"], true);

    // Pulling what is already there reports each layer as complete.
    let (status, _, lines) = target
        .stream("/api/pull", json!({"model": name, "insecure": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(lines.last().unwrap()["status"], "success", "{lines:?}");
    for line in lines.iter().filter(|l| l["digest"].is_string()) {
        assert_eq!(line["completed"], line["total"], "{line}");
    }
}

#[tokio::test]
async fn pull_resumes_a_partial_blob_from_a_real_registry() {
    let registry = Registry::start().await;
    let (source, name) = pushed(&registry).await;
    let manifest =
        std::fs::read(manifest_file(&source, &registry.host, "test/tiny/latest")).unwrap();
    let model_hex = digests_of(&manifest)[0].clone();
    let weights = std::fs::read(blob_file(&source, &model_hex)).unwrap();
    let half = weights.len() / 2;

    let target = Server::start().await;
    let partial = store_of(&target)
        .join("blobs")
        .join(format!("sha256-{model_hex}-partial"));
    std::fs::write(&partial, &weights[..half]).unwrap();
    let (status, _, lines) = target
        .stream("/api/pull", json!({"model": name, "insecure": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(lines.last().unwrap()["status"], "success", "{lines:?}");
    let model_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["status"] == format!("pulling {}", &model_hex[..12]))
        .collect();
    assert_eq!(model_lines[0]["total"], weights.len() as u64);
    // The download starts at the half that was already there.
    let first_bytes = model_lines
        .iter()
        .find_map(|l| l["completed"].as_u64())
        .expect("a line with bytes");
    assert_eq!(first_bytes, half as u64, "{model_lines:?}");
    assert_eq!(
        std::fs::read(blob_file(&target, &model_hex)).unwrap(),
        weights
    );
    assert!(!partial.exists());
}

#[tokio::test]
async fn corrupted_blob_in_the_registry_is_refused() {
    let registry = Registry::start().await;
    let (source, name) = pushed(&registry).await;
    let manifest =
        std::fs::read(manifest_file(&source, &registry.host, "test/tiny/latest")).unwrap();
    let model_hex = digests_of(&manifest)[0].clone();
    let data = registry.blob_data(&model_hex);
    let mut bytes = std::fs::read(&data).expect("registry blob data");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();

    let target = Server::start().await;
    let (status, body) = target
        .post(
            "/api/pull",
            json!({"model": name, "insecure": true, "stream": false}),
        )
        .await;
    assert_eq!(status, 500, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.starts_with("digest mismatch, file must be downloaded again: want sha256:"),
        "{message}"
    );
    assert!(!blob_file(&target, &model_hex).exists());
    assert!(!manifest_file(&target, &registry.host, "test/tiny/latest").exists());
}

#[tokio::test]
async fn pull_and_push_errors_are_ollamas() {
    let registry = Registry::start().await;
    let server = Server::start().await;
    let missing = format!("{}/test/missing:latest", registry.host);
    let cases = [
        (
            "/api/pull",
            json!({"model": missing, "insecure": true}),
            500,
            "pull model manifest: file does not exist",
        ),
        (
            "/api/pull",
            json!({"model": "http://127.0.0.1:1/ns/m"}),
            500,
            "insecure protocol http",
        ),
        (
            "/api/pull",
            json!({"model": "bad name!"}),
            400,
            "invalid model name",
        ),
        ("/api/pull", json!({}), 400, "invalid model name"),
        ("/api/push", json!({}), 400, "model is required"),
        (
            "/api/push",
            json!({"model": "a/b/c/d/e"}),
            400,
            "invalid model name",
        ),
        (
            "/api/push",
            json!({"model": missing, "insecure": true}),
            500,
            "not found",
        ),
    ];
    for (path, mut body, status, message) in cases {
        body["stream"] = json!(false);
        let (got, answer) = server.post(path, body.clone()).await;
        assert_eq!(got, status, "{path} {body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{path} {body}: {error}");
    }
    // Streamed, the error is the last line of a 200 stream.
    let (status, _, lines) = server
        .stream("/api/pull", json!({"model": missing, "insecure": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(lines[0]["status"], "pulling manifest");
    assert_eq!(
        lines.last().unwrap()["error"],
        "pull model manifest: file does not exist"
    );
}

/// What the in-test registry serves and has seen.
#[derive(Default)]
struct Fake {
    manifest: Vec<u8>,
    blob: Vec<u8>,
    /// Sends this many bytes of a whole-blob GET, then stalls.
    stall_after: Option<usize>,
    blob_requests: AtomicUsize,
    served: AtomicU64,
}

/// A minimal registry: one manifest, one blob (with `Range` support).
async fn fake_registry(fake: Arc<Mutex<Fake>>) -> String {
    use axum::body::Body;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;

    async fn manifest(State(f): State<Arc<Mutex<Fake>>>) -> Vec<u8> {
        f.lock().unwrap().manifest.clone()
    }
    async fn blob(State(f): State<Arc<Mutex<Fake>>>, headers: HeaderMap) -> Response {
        let f = f.lock().unwrap();
        f.blob_requests.fetch_add(1, Ordering::SeqCst);
        // `bytes=<start>-[<end>]`; Hearth asks for whole parts, and a part
        // that starts at 0 is served like a plain GET (so it can stall).
        let start = headers
            .get("range")
            .and_then(|v| v.to_str().ok())
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.split('-').next()?.parse::<usize>().ok())
            .filter(|&s| s > 0);
        let len = f.blob.len();
        if let Some(start) = start {
            f.served.fetch_add((len - start) as u64, Ordering::SeqCst);
            let range = format!("bytes {start}-{}/{len}", len - 1);
            return (
                StatusCode::PARTIAL_CONTENT,
                [("content-range", range)],
                f.blob[start..].to_vec(),
            )
                .into_response();
        }
        match f.stall_after {
            Some(n) => {
                f.served.fetch_add(n as u64, Ordering::SeqCst);
                let head = bytes::Bytes::copy_from_slice(&f.blob[..n]);
                let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) })
                    .chain(futures_util::stream::pending());
                Body::from_stream(body).into_response()
            }
            None => {
                f.served.fetch_add(len as u64, Ordering::SeqCst);
                f.blob.clone().into_response()
            }
        }
    }
    let app = axum::Router::new()
        .route("/v2/ns/m/manifests/{tag}", get(manifest))
        .route("/v2/ns/m/blobs/{digest}", get(blob))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn manifest_for(layers: &[(&str, usize)]) -> Vec<u8> {
    let layers: Vec<Value> = layers
        .iter()
        .map(|(d, size)| json!({"mediaType": "application/vnd.ollama.image.model", "digest": d, "size": size}))
        .collect();
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "layers": layers,
    }))
    .unwrap()
}

#[tokio::test]
async fn traversal_digest_is_refused_before_any_blob_request() {
    let server = Server::start().await;
    let outside = server.models.path().join("sentinel");
    std::fs::write(&outside, b"keep me").unwrap();
    for digest in [
        "sha256:../../sentinel",
        "../../sentinel",
        "sha256-../../../sentinel",
    ] {
        let fake = Arc::new(Mutex::new(Fake {
            manifest: manifest_for(&[(digest, 7)]),
            ..Fake::default()
        }));
        let host = fake_registry(fake.clone()).await;
        let (status, body) = server
            .post(
                "/api/pull",
                json!({"model": format!("{host}/ns/m"), "insecure": true, "stream": false}),
            )
            .await;
        assert_eq!(status, 500, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid digest format"),
            "{body}"
        );
        assert_eq!(fake.lock().unwrap().blob_requests.load(Ordering::SeqCst), 0);
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"keep me");
}

#[tokio::test]
async fn dropped_client_leaves_a_partial_that_the_next_pull_resumes() {
    let blob: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&blob)));
    let hex = digest.trim_start_matches("sha256:").to_string();
    let fake = Arc::new(Mutex::new(Fake {
        manifest: manifest_for(&[(&digest, blob.len())]),
        blob: blob.clone(),
        stall_after: Some(150_000),
        ..Fake::default()
    }));
    let host = fake_registry(fake.clone()).await;
    let server = Server::start().await;
    let name = format!("{host}/ns/m");

    // Read the stream until the bytes before the stall are reported (the
    // server flushes and reports a quiet download), then hang up.
    let response = server
        .client
        .post(server.url("/api/pull"))
        .json(&json!({"model": name, "insecure": true}))
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("\"completed\":150000") {
        let chunk = tokio::time::timeout(Duration::from_secs(20), body.next())
            .await
            .expect("progress within 20s")
            .expect("stream open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(body);

    let partial = store_of(&server)
        .join("blobs")
        .join(format!("sha256-{hex}-partial"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) < 150_000 {
        assert!(Instant::now() < deadline, "partial file not written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!blob_file(&server, &hex).exists());

    // Now the registry serves everything; the pull fetches only the rest.
    {
        let mut f = fake.lock().unwrap();
        f.stall_after = None;
        f.served.store(0, Ordering::SeqCst);
    }
    let (status, body) = server
        .post(
            "/api/pull",
            json!({"model": name, "insecure": true, "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}\n{}", server.log());
    assert_eq!(std::fs::read(blob_file(&server, &hex)).unwrap(), blob);
    let served = fake.lock().unwrap().served.load(Ordering::SeqCst);
    assert_eq!(served, (blob.len() - 150_000) as u64);
}
