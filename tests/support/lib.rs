//! Support for Hearth's end-to-end tests: start the real `hearth` binary
//! on a free port with its own store, make test models, and talk HTTP.
//!
//! Every test gets its own server and store, so tests can run in parallel.
//! Models run with one thread (two collapse when the CPU is shared).

pub mod image;
pub mod registry_server;
pub mod sse;
pub mod tools;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The `hearth` binary under test: `HEARTH_BIN`, else the debug build.
pub fn hearth_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("HEARTH_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let bin = target.join("debug").join("hearth");
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build --bin hearth` first",
        bin.display()
    );
    bin
}

/// The Python that has the test tools (`gguf`, `numpy`).
fn python() -> PathBuf {
    let venv = root().join(".venv/bin/python");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// A tiny random-weight llama GGUF made by `scripts/make_tiny_gguf.py`,
/// generated once per test process.
pub fn tiny_gguf() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| make_tiny_gguf("tiny.gguf", &[]))
}

/// The tiny GGUF as an embedding model (`--embedding`: mean pooling),
/// generated once per test process.
pub fn tiny_embed_gguf() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| make_tiny_gguf("tiny-embed.gguf", &["--embedding"]))
}

/// A tiny random-weight CLIP projector for [`tiny_gguf`] (LLaVA's `mlp`
/// type, 16 image tokens per image) made by `scripts/make_tiny_mmproj.py`,
/// generated once per test process.
pub fn tiny_mmproj_gguf() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| run_script("make_tiny_mmproj.py", "tiny-mmproj.gguf", &[]))
}

fn make_tiny_gguf(file: &str, args: &[&str]) -> PathBuf {
    run_script("make_tiny_gguf.py", file, args)
}

fn run_script(script: &str, file: &str, args: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hearth-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join(file);
    let status = Command::new(python())
        .arg(root().join("scripts").join(script))
        .arg(&out)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("run {script}: {e}"));
    assert!(status.success(), "{script} failed");
    out
}

/// The cached Gemma 3 270M file, if `make test-model` fetched it.
pub fn gemma_gguf() -> Option<PathBuf> {
    let path = std::env::var_os("HEARTH_GEMMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            std::env::var_os("HEARTH_CACHE")
                .map(PathBuf::from)
                .unwrap_or(home.join(".cache/hearth"))
                .join("gemma-3-270m-q4_k_m.gguf")
        });
    path.is_file().then_some(path)
}

/// Runs `hearth serve` on `port` with its store and home under `dir`,
/// appending its output to `log`.
fn spawn_serve(port: u16, dir: &Path, log: &Path, env: &[(String, String)]) -> Child {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let mut cmd = Command::new(hearth_bin());
    cmd.arg("serve")
        .env("HEARTH_HOST", format!("127.0.0.1:{port}"))
        .env("HEARTH_MODELS", dir.join("store"))
        // Keys and other state stay in the test's own directory.
        .env("HEARTH_HOME", dir.join("home"))
        .env("HEARTH_NUM_THREADS", "1")
        // A developer's ~/.hearth/config.toml must not change the tests.
        .env("HEARTH_CONFIG", "/dev/null")
        .env("RUST_LOG", "info,runner=debug")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn hearth serve")
}

/// A running `hearth serve` with a private store. Killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    pub models: tempfile::TempDir,
    pub client: reqwest::Client,
    log: PathBuf,
    /// The extra environment it was started with (for [`Server::restart`]).
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts a server with default settings.
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra environment variables.
    pub async fn start_with(env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let models = tempfile::tempdir().expect("temp store");
        let log = models.path().join("server.log");
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let child = spawn_serve(port, models.path(), &log, &env);
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            models,
            // A fresh connection per request: a pooled one can be closed by
            // the server's idle timeout just as the next request reuses it.
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("HTTP client"),
            log,
            env,
        };
        server.wait_ready().await;
        server
    }

    /// Kills the server with SIGKILL, as a crash would: nothing is cleaned
    /// up or flushed by the server itself.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port, store and settings (after
    /// [`Server::kill_hard`] or an exit).
    pub async fn restart(&mut self) {
        self.kill_hard();
        let port: u16 = self.addr().rsplit(':').next().unwrap().parse().unwrap();
        self.child = spawn_serve(port, self.models.path(), &self.log, &self.env);
        self.wait_ready().await;
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = self.client.get(&self.base).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not start:\n{}", self.log());
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's `HEARTH_HOME` (where `hearth keys` keeps its file).
    pub fn home(&self) -> PathBuf {
        self.models.path().join("home")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Process ids of the server's runner children (`hearth runner …`).
    pub fn runner_pids(&self) -> Vec<u32> {
        let parent = self.pid();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold
                // spaces, so split after its closing parenthesis.
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                    return false;
                };
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<u32>().ok());
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                ppid == Some(parent)
                    && cmdline
                        .split(|&b| b == 0)
                        .nth(1)
                        .is_some_and(|arg| arg == b"runner")
            })
            .collect()
    }

    /// The server's `host:port`.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Sends SIGTERM, as a service manager stopping the server would.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `timeout` for the server to exit; its exit code, or
    /// `None` if it is still running.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs JSON and returns status and parsed body (`Null` when empty).
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).json(&body))
            .await
    }

    /// POSTs raw bytes.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).body(body)).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    /// The body of `GET path` as text (e.g. `/metrics`), whatever the status.
    pub async fn get_text(&self, path: &str) -> String {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        resp.text().await.unwrap()
    }

    /// The value of an unlabelled sample in `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        metric_in(&self.get_text("/metrics").await, name)
    }

    pub async fn delete(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.delete(self.url(path)).json(&body))
            .await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e:?}"));
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading the body failed: {e:?}"));
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// POSTs and returns the NDJSON lines of a streamed response.
    pub async fn stream(&self, path: &str, body: Value) -> (u16, String, Vec<Value>) {
        let (status, ctype, text) = self.post_text(path, body).await;
        let lines = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad NDJSON line {l:?}: {e}"))
            })
            .collect();
        (status, ctype, lines)
    }

    /// POSTs and returns status, content type and the raw body (for SSE,
    /// parsed with [`sse::parse`]).
    pub async fn post_text(&self, path: &str, body: Value) -> (u16, String, String) {
        let resp = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        (status, ctype, resp.text().await.expect("body"))
    }

    /// Uploads `file` as a blob; returns its digest (`sha256:<hex>`).
    pub async fn upload_blob(&self, file: &Path) -> String {
        let bytes = std::fs::read(file).expect("read model file");
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        let (status, body) = self.post_raw(&format!("/api/blobs/{digest}"), bytes).await;
        assert!(
            status == 201 || status == 200,
            "blob upload: {status} {body}"
        );
        digest
    }

    /// Creates `name` from the tiny GGUF plus the tiny projector (a vision
    /// model, as `FROM model.gguf` + `FROM mmproj.gguf` makes one), with
    /// one thread.
    pub async fn create_tiny_vision(&self, name: &str) {
        let model = self.upload_blob(tiny_gguf()).await;
        let projector = self.upload_blob(tiny_mmproj_gguf()).await;
        let (status, body) = self
            .post(
                "/api/create",
                json!({"model": name, "stream": false,
                       "files": {"model.gguf": model, "mmproj.gguf": projector},
                       "parameters": {"num_thread": 1}}),
            )
            .await;
        assert_eq!(status, 200, "create {name}: {body}\n{}", self.log());
    }

    /// Uploads `file` as a blob and creates `name` from it, with extra
    /// create fields merged in. Returns the create response.
    pub async fn create_from_file(&self, name: &str, file: &Path, extra: Value) -> (u16, Value) {
        let digest = self.upload_blob(file).await;
        let mut req = json!({"model": name, "files": {"model.gguf": digest}, "stream": false});
        if let (Some(obj), Some(extra)) = (req.as_object_mut(), extra.as_object()) {
            obj.extend(extra.clone());
        }
        self.post("/api/create", req).await
    }

    /// A server started with `env` that has the cached Gemma 3 270M as
    /// `gemma3:270m`; `None` (and a note) where the model is not cached.
    pub async fn with_gemma(env: &[(&str, &str)]) -> Option<Server> {
        let Some(path) = gemma_gguf() else {
            eprintln!("skipping: Gemma test model not cached (run `make test-model`)");
            return None;
        };
        let s = Server::start_with(env).await;
        let (status, body) = s.create_from_file("gemma3:270m", &path, json!({})).await;
        assert_eq!(status, 200, "{body}");
        Some(s)
    }

    /// Creates `tiny` from the tiny GGUF with one thread.
    pub async fn create_tiny(&self, name: &str) {
        let (status, body) = self
            .create_from_file(name, tiny_gguf(), json!({"parameters": {"num_thread": 1}}))
            .await;
        assert_eq!(status, 200, "create {name}: {body}\n{}", self.log());
    }

    /// Creates `name` from the tiny embedding GGUF with one thread.
    pub async fn create_tiny_embed(&self, name: &str) {
        let (status, body) = self
            .create_from_file(
                name,
                tiny_embed_gguf(),
                json!({"parameters": {"num_thread": 1}}),
            )
            .await;
        assert_eq!(status, 200, "create {name}: {body}\n{}", self.log());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- server log ----\n{}", self.log());
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Concatenated `response` (generate) or `message.content` (chat) text.
pub fn text_of(lines: &[Value]) -> String {
    lines
        .iter()
        .map(|l| {
            l["response"]
                .as_str()
                .or(l["message"]["content"].as_str())
                .unwrap_or("")
        })
        .collect()
}

/// The value of the unlabelled sample `name` in a Prometheus text page.
pub fn metric_in(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}
