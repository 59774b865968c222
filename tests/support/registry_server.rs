//! A local registry for the pull tests that speaks Ollama's registry
//! dialect and Hugging Face's APIs, with knobs for the faults the tests
//! need, and counters of what it served.
//!
//! - `GET /v2/<ns>/<model>/manifests/<tag>`: stored manifest bytes (also
//!   Hugging Face's registry dialect, where the tag is a quantization).
//! - `GET|HEAD /v2/<ns>/<model>/blobs/sha256:<hex>`: a `307` to the "CDN",
//!   as registry.ollama.ai answers: `http://localhost:<port>/data/<hex>`, a
//!   different host name than the registry's `127.0.0.1`, so a client must
//!   drop its credentials there.
//! - `GET /api/models/<user>/<repo>/tree/main` and
//!   `GET /<user>/<repo>/resolve/main/<file>` (a `302` to the CDN): Hugging
//!   Face's file API.
//! - `GET /data/<hex>`: the CDN; honours `Range: bytes=a-b` with `206`,
//!   counts the body bytes it sends, and notes any `Authorization` header.
//! - `GET /token`: the token realm when `token` is set.
//!
//! Both listeners serve the same routes; only the names differ.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A body far over every cap Hearth applies (manifests 4 MiB, tokens 64 KiB).
const HUGE: usize = 64 << 20;

/// Which response is made huge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Huge {
    Manifest,
    Token,
}

/// What the registry serves and how it misbehaves.
#[derive(Default)]
pub struct Content {
    /// `"<ns>/<model>:<tag>"` → manifest bytes.
    pub manifests: HashMap<String, Vec<u8>>,
    /// Hex digest → bytes.
    pub blobs: HashMap<String, Vec<u8>>,
    /// `"<user>/<repo>"` → `(file name, hex digest)` for the file API.
    pub hf_files: HashMap<String, Vec<(String, String)>>,
    /// CDN bodies are sent `chunk` bytes at a time with `delay` between.
    pub throttle: Option<(usize, Duration)>,
    /// Blobs whose next CDN response has one byte flipped.
    pub corrupt_once: HashSet<String>,
    /// Blobs whose next CDN response stops after half its bytes and hangs.
    pub stall_once: HashSet<String>,
    pub huge: Option<Huge>,
    /// Registry requests need `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

/// Counters and content, shared with the handlers.
#[derive(Default)]
pub struct Shared {
    pub content: Mutex<Content>,
    /// Body bytes the CDN has sent.
    pub cdn_bytes: AtomicU64,
    pub cdn_requests: AtomicUsize,
    /// Requests to `/v2/…/blobs/…` (before the redirect).
    pub blob_requests: AtomicUsize,
    /// Requests to the file API's listing.
    pub tree_requests: AtomicUsize,
    /// The CDN received an `Authorization` header.
    pub auth_leaked: AtomicBool,
}

/// A running test registry.
pub struct TestRegistry {
    /// `127.0.0.1:<port>`: what model names use.
    pub host: String,
    /// `localhost:<port>`: where blob GETs are redirected.
    pub cdn_host: String,
    pub shared: Arc<Shared>,
}

fn hex_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl TestRegistry {
    pub async fn start() -> TestRegistry {
        let shared = Arc::new(Shared::default());
        let registry = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cdn = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = registry.local_addr().unwrap().to_string();
        let cdn_host = format!("localhost:{}", cdn.local_addr().unwrap().port());
        for listener in [registry, cdn] {
            let app = axum::Router::new().fallback(handle).with_state((
                shared.clone(),
                host.clone(),
                cdn_host.clone(),
            ));
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        }
        TestRegistry {
            host,
            cdn_host,
            shared,
        }
    }

    pub fn content(&self) -> std::sync::MutexGuard<'_, Content> {
        self.shared.content.lock().unwrap()
    }

    /// Stores a blob; returns its hex digest.
    pub fn add_blob(&self, bytes: &[u8]) -> String {
        let hex = hex_of(bytes);
        self.content().blobs.insert(hex.clone(), bytes.to_vec());
        hex
    }

    /// Publishes `<repo>:<tag>` made of `layers` (media type, bytes) and a
    /// GGUF config; returns the manifest bytes.
    pub fn add_model(&self, repo: &str, tag: &str, layers: &[(&str, &[u8])]) -> Vec<u8> {
        let config = br#"{"model_format":"gguf","model_family":"llama","model_type":"tiny","file_type":"F32"}"#;
        let layer = |media: &str, bytes: &[u8]| json!({"mediaType": media, "digest": format!("sha256:{}", self.add_blob(bytes)), "size": bytes.len()});
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": layer("application/vnd.docker.container.image.v1+json", config),
            "layers": layers.iter().map(|(m, b)| layer(m, b)).collect::<Vec<Value>>(),
        }))
        .unwrap();
        self.content()
            .manifests
            .insert(format!("{repo}:{tag}"), manifest.clone());
        manifest
    }

    /// Adds a file to a Hugging Face repository (file API only).
    pub fn add_hf_file(&self, repo: &str, file: &str, bytes: &[u8]) -> String {
        let hex = self.add_blob(bytes);
        self.content()
            .hf_files
            .entry(repo.to_string())
            .or_default()
            .push((file.to_string(), hex.clone()));
        hex
    }

    pub fn cdn_bytes(&self) -> u64 {
        self.shared.cdn_bytes.load(Ordering::SeqCst)
    }

    pub fn reset_counters(&self) {
        self.shared.cdn_bytes.store(0, Ordering::SeqCst);
        self.shared.cdn_requests.store(0, Ordering::SeqCst);
        self.shared.blob_requests.store(0, Ordering::SeqCst);
        self.shared.tree_requests.store(0, Ordering::SeqCst);
    }

    pub fn auth_leaked(&self) -> bool {
        self.shared.auth_leaked.load(Ordering::SeqCst)
    }
}

type AppState = (Arc<Shared>, String, String);

async fn handle(State((shared, host, cdn)): State<AppState>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["v2", ""] | ["v2"] => StatusCode::OK.into_response(),
        ["token"] => token(&shared),
        ["v2", ns, model, "manifests", tag] => {
            if let Some(denied) = check_auth(&shared, &headers, &host) {
                return denied;
            }
            manifest(&shared, &format!("{ns}/{model}:{tag}"))
        }
        ["v2", _, _, "blobs", digest] => {
            shared.blob_requests.fetch_add(1, Ordering::SeqCst);
            if let Some(denied) = check_auth(&shared, &headers, &host) {
                return denied;
            }
            let hex = digest.strip_prefix("sha256:").unwrap_or_default();
            if !shared.content.lock().unwrap().blobs.contains_key(hex) {
                return StatusCode::NOT_FOUND.into_response();
            }
            let to = format!("http://{cdn}/data/{hex}?signature=test");
            (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response()
        }
        ["api", "models", user, repo, "tree", "main"] => {
            shared.tree_requests.fetch_add(1, Ordering::SeqCst);
            tree(&shared, &format!("{user}/{repo}"))
        }
        [user, repo, "resolve", "main", file] => {
            let content = shared.content.lock().unwrap();
            let hex = content
                .hf_files
                .get(&format!("{user}/{repo}"))
                .and_then(|files| files.iter().find(|(f, _)| f == file))
                .map(|(_, h)| h.clone());
            match hex {
                Some(hex) => (
                    StatusCode::FOUND,
                    [("location", format!("http://{cdn}/data/{hex}"))],
                )
                    .into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        ["data", hex] if method == Method::GET => data(&shared, hex, &headers),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn check_auth(shared: &Shared, headers: &HeaderMap, host: &str) -> Option<Response> {
    let content = shared.content.lock().unwrap();
    let token = content.token.as_ref()?;
    let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
    if sent == Some(&format!("Bearer {token}")) {
        return None;
    }
    let challenge =
        format!(r#"Bearer realm="http://{host}/token",service="test",scope="repository:x:pull""#);
    Some((StatusCode::UNAUTHORIZED, [("www-authenticate", challenge)]).into_response())
}

fn token(shared: &Shared) -> Response {
    let content = shared.content.lock().unwrap();
    if content.huge == Some(Huge::Token) {
        return huge_body();
    }
    Json(json!({"token": content.token.clone().unwrap_or_default()}))
}

#[allow(non_snake_case)]
fn Json(v: Value) -> Response {
    (
        [("content-type", "application/json")],
        serde_json::to_vec(&v).unwrap(),
    )
        .into_response()
}

fn manifest(shared: &Shared, key: &str) -> Response {
    let content = shared.content.lock().unwrap();
    if content.huge == Some(Huge::Manifest) {
        return huge_body();
    }
    match content.manifests.get(key) {
        Some(bytes) => (
            [(
                "content-type",
                "application/vnd.docker.distribution.manifest.v2+json",
            )],
            bytes.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"errors": [{"code": "MANIFEST_UNKNOWN"}]})),
        )
            .into_response(),
    }
}

/// 64 MiB of JSON-ish bytes, streamed without a length.
fn huge_body() -> Response {
    let chunk = bytes::Bytes::from(vec![b' '; 1 << 20]);
    let stream = futures_util::stream::iter(
        (0..HUGE >> 20).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    Body::from_stream(stream).into_response()
}

fn tree(shared: &Shared, repo: &str) -> Response {
    let content = shared.content.lock().unwrap();
    let Some(files) = content.hf_files.get(repo) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "Repository not found"})),
        )
            .into_response();
    };
    let mut list =
        vec![json!({"type": "file", "oid": "0".repeat(40), "size": 20, "path": "README.md"})];
    for (file, hex) in files {
        let size = content.blobs[hex].len();
        list.push(json!({
            "type": "file", "oid": "1".repeat(40), "size": size, "path": file,
            "lfs": {"oid": hex, "size": size, "pointerSize": 134},
        }));
    }
    Json(Value::Array(list))
}

/// The CDN: ranged, throttled, counted, maybe corrupt or stalling once.
fn data(shared: &Arc<Shared>, hex: &str, headers: &HeaderMap) -> Response {
    shared.cdn_requests.fetch_add(1, Ordering::SeqCst);
    if headers.contains_key("authorization") {
        shared.auth_leaked.store(true, Ordering::SeqCst);
    }
    let mut content = shared.content.lock().unwrap();
    let Some(blob) = content.blobs.get(hex).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let len = blob.len();
    let range = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| {
            let (a, b) = r.split_once('-')?;
            let a: usize = a.parse().ok()?;
            let b: usize = if b.is_empty() {
                len - 1
            } else {
                b.parse().ok()?
            };
            (a <= b && b < len).then_some((a, b))
        });
    let (status, start, end) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b + 1),
        None => (StatusCode::OK, 0, len),
    };
    let mut body = blob[start..end].to_vec();
    if content.corrupt_once.remove(hex) && !body.is_empty() {
        body[0] ^= 0xff;
    }
    let stall = content.stall_once.remove(hex);
    let throttle = content.throttle;
    drop(content);
    let counter = shared.clone();
    let stream = async_stream(body, throttle, stall, counter);
    let mut response = Body::from_stream(stream).into_response();
    *response.status_mut() = status;
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {start}-{}/{len}", end - 1);
        response
            .headers_mut()
            .insert("content-range", value.parse().unwrap());
    }
    response
}

/// The body in chunks, counting each as it is handed to the connection.
fn async_stream(
    body: Vec<u8>,
    throttle: Option<(usize, Duration)>,
    stall: bool,
    shared: Arc<Shared>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    let (chunk, delay) = throttle.unwrap_or((64 << 10, Duration::ZERO));
    let stop_at = if stall { body.len() / 2 } else { body.len() };
    let body = bytes::Bytes::from(body);
    futures_util::stream::unfold(0usize, move |sent| {
        let body = body.clone();
        let shared = shared.clone();
        async move {
            if sent >= stop_at {
                if stall {
                    futures_util::future::pending::<()>().await;
                }
                return None;
            }
            if sent > 0 && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let end = (sent + chunk).min(stop_at);
            shared
                .cdn_bytes
                .fetch_add((end - sent) as u64, Ordering::SeqCst);
            Some((Ok(body.slice(sent..end)), end))
        }
    })
}
