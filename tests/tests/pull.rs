//! Pulls against a local registry that speaks Ollama's registry dialect
//! (token challenge, `307` from blob GETs to a CDN on another host name)
//! and Hugging Face's APIs (`support/registry_server.rs`): parallel ranged
//! parts, a `kill -9` mid-pull that resumes, concurrent pulls sharing one
//! download, corrupt and stalled transfers, oversized bodies, re-pulls that
//! prune replaced layers, `hf.co/…` names, and a full disk.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hearth_e2e::registry_server::{Huge, TestRegistry};
use hearth_e2e::{tiny_embed_gguf, tiny_gguf, Server};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const MODEL: &str = "application/vnd.ollama.image.model";
const PARAMS: &str = "application/vnd.ollama.image.params";

fn hex_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn store_of(server: &Server) -> PathBuf {
    server.models.path().join("store")
}

fn blob_file(server: &Server, hex: &str) -> PathBuf {
    store_of(server).join("blobs").join(format!("sha256-{hex}"))
}

/// Names of the files in the store's `blobs/`.
fn blob_names(store: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.join("blobs"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn statuses(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l["status"].as_str().map(str::to_string))
        .collect()
}

/// A streamed pull; the lines, after asserting the stream ended in success.
async fn pull_ok(server: &Server, model: &str) -> Vec<Value> {
    let (status, _, lines) = server
        .stream("/api/pull", json!({"model": model, "insecure": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        lines.last().unwrap()["status"],
        "success",
        "{lines:?}\n{}",
        server.log()
    );
    lines
}

/// A pull with `stream:false`; its error message, or `None` on success.
async fn pull_error(server: &Server, model: &str) -> Option<String> {
    let (status, body) = server
        .post(
            "/api/pull",
            json!({"model": model, "insecure": true, "stream": false}),
        )
        .await;
    if status == 200 {
        return None;
    }
    Some(body["error"].as_str().unwrap_or_default().to_string())
}

async fn generates(server: &Server, model: &str) {
    let (status, body) = server
        .post(
            "/api/generate",
            json!({"model": model, "prompt": "hi", "stream": false, "options": {"num_predict": 3}}),
        )
        .await;
    assert_eq!(status, 200, "{body}\n{}", server.log());
    assert_eq!(body["done"], true);
}

fn weights() -> Vec<u8> {
    std::fs::read(tiny_gguf()).expect("tiny GGUF")
}

#[tokio::test]
async fn ollama_dialect_pull_in_parts_behind_a_token_and_a_cdn_redirect() {
    let reg = TestRegistry::start().await;
    reg.content().token = Some("s3cret".into());
    let weights = weights();
    let hex = hex_of(&weights);
    let params_v1 = br#"{"temperature":0.1}"#;
    let manifest = reg.add_model(
        "ns/tiny",
        "latest",
        &[(MODEL, &weights), (PARAMS, params_v1)],
    );
    // Parts of 400 kB: the 1.9 MB weights come in 5 parallel ranges.
    let server = Server::start_with(&[("HEARTH_DOWNLOAD_PART_SIZE", "400000")]).await;
    let name = format!("{}/ns/tiny", reg.host);

    let lines = pull_ok(&server, &name).await;
    let seen = statuses(&lines);
    for phase in [
        "pulling manifest",
        "verifying sha256 digest",
        "writing manifest",
    ] {
        assert!(seen.iter().any(|s| s == phase), "{phase}: {seen:?}");
    }
    let layer_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["status"] == format!("pulling {}", &hex[..12]))
        .collect();
    assert!(layer_lines
        .iter()
        .all(|l| l["total"] == weights.len() as u64));
    assert_eq!(
        layer_lines.last().unwrap()["completed"],
        weights.len() as u64
    );

    assert!(!reg.auth_leaked(), "the token was sent to the CDN");
    let cdn_requests = reg.shared.cdn_requests.load(Ordering::SeqCst);
    assert!(cdn_requests >= 5, "{cdn_requests} CDN requests");
    let stored = store_of(&server)
        .join("manifests")
        .join(&reg.host)
        .join("ns/tiny/latest");
    assert_eq!(std::fs::read(&stored).unwrap(), manifest);
    assert!(std::fs::read(blob_file(&server, &hex)).unwrap() == weights);
    let leftovers: Vec<String> = blob_names(&store_of(&server))
        .into_iter()
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    generates(&server, &name).await;

    // The registry changes one layer: a re-pull fetches only that one and
    // removes the layer nothing uses any more.
    reg.reset_counters();
    let params_v2 = br#"{"temperature":0.2}"#;
    reg.add_model(
        "ns/tiny",
        "latest",
        &[(MODEL, &weights), (PARAMS, params_v2)],
    );
    let lines = pull_ok(&server, &name).await;
    assert!(
        statuses(&lines).contains(&"removing unused layers".to_string()),
        "{lines:?}"
    );
    assert!(!blob_file(&server, &hex_of(params_v1)).exists());
    assert!(blob_file(&server, &hex_of(params_v2)).exists());
    assert!(blob_file(&server, &hex).exists());
    assert!(reg.cdn_bytes() < 1000, "weights fetched again");
}

#[tokio::test]
async fn noprune_keeps_the_layers_a_re_pull_replaced() {
    let reg = TestRegistry::start().await;
    let (v1, v2) = (b"{\"seed\":1}".as_slice(), b"{\"seed\":2}".as_slice());
    let weights = weights();
    reg.add_model("ns/m", "latest", &[(MODEL, &weights), (PARAMS, v1)]);
    let server = Server::start_with(&[("HEARTH_NOPRUNE", "1")]).await;
    let name = format!("{}/ns/m", reg.host);
    pull_ok(&server, &name).await;
    reg.add_model("ns/m", "latest", &[(MODEL, &weights), (PARAMS, v2)]);
    let lines = pull_ok(&server, &name).await;
    assert!(!statuses(&lines).contains(&"removing unused layers".to_string()));
    assert!(blob_file(&server, &hex_of(v1)).exists());
    assert!(blob_file(&server, &hex_of(v2)).exists());
}

#[tokio::test]
async fn hf_names_pull_through_the_registry_dialect() {
    let reg = TestRegistry::start().await;
    let weights = weights();
    reg.add_model("test/Tiny-GGUF", "latest", &[(MODEL, &weights)]);
    reg.add_model("test/Tiny-GGUF", "Q4_K_M", &[(MODEL, &weights)]);
    let endpoint = format!("http://{}", reg.host);
    let server = Server::start_with(&[("HEARTH_HF_ENDPOINT", &endpoint)]).await;

    pull_ok(&server, "hf.co/test/Tiny-GGUF").await;
    pull_ok(&server, "huggingface.co/test/Tiny-GGUF:Q4_K_M").await;
    assert_eq!(reg.shared.tree_requests.load(Ordering::SeqCst), 0);
    assert!(reg.shared.blob_requests.load(Ordering::SeqCst) > 0);
    assert!(!reg.auth_leaked());
    let manifests = store_of(&server).join("manifests");
    assert!(manifests.join("hf.co/test/Tiny-GGUF/latest").is_file());
    assert!(manifests
        .join("huggingface.co/test/Tiny-GGUF/Q4_K_M")
        .is_file());
    let (_, tags) = server.get("/api/tags").await;
    let names: Vec<&str> = tags["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"hf.co/test/Tiny-GGUF:latest"), "{names:?}");
    generates(&server, "hf.co/test/Tiny-GGUF").await;
}

#[tokio::test]
async fn hf_names_pull_a_gguf_file_chosen_by_quantization() {
    let reg = TestRegistry::start().await;
    let weights = weights();
    let embed = std::fs::read(tiny_embed_gguf()).unwrap();
    let repo = "test/Files-GGUF";
    let q4 = reg.add_hf_file(repo, "Files-Q4_K_M.gguf", &weights);
    let f16 = reg.add_hf_file(repo, "Files-F16.gguf", &embed);
    let endpoint = format!("http://{}", reg.host);
    let server = Server::start_with(&[
        ("HEARTH_HF_ENDPOINT", &endpoint),
        ("HEARTH_DOWNLOAD_PART_SIZE", "700000"),
    ])
    .await;

    // `latest` is Q4_K_M; a tag picks its file, ignoring case.
    let lines = pull_ok(&server, "hf.co/test/Files-GGUF").await;
    assert!(statuses(&lines).contains(&format!("pulling {}", &q4[..12])));
    assert!(reg.shared.tree_requests.load(Ordering::SeqCst) > 0);
    pull_ok(&server, "huggingface.co/test/Files-GGUF:f16").await;
    assert!(std::fs::read(blob_file(&server, &q4)).unwrap() == weights);
    assert!(std::fs::read(blob_file(&server, &f16)).unwrap() == embed);
    let (status, show) = server
        .post("/api/show", json!({"model": "hf.co/test/Files-GGUF"}))
        .await;
    assert_eq!(status, 200, "{show}");
    assert_eq!(show["details"]["format"], "gguf");
    generates(&server, "hf.co/test/Files-GGUF:latest").await;

    let error = pull_error(&server, "hf.co/test/Files-GGUF:Q2_K")
        .await
        .expect("an unknown quantization fails");
    assert!(
        error.contains("no GGUF file for quantization \"Q2_K\"")
            && error.contains("Files-Q4_K_M.gguf"),
        "{error}"
    );
    let error = pull_error(&server, "hf.co/test/Missing-GGUF")
        .await
        .unwrap();
    assert_eq!(error, "pull model manifest: file does not exist");
}

#[tokio::test]
async fn a_hostile_hugging_face_listing_is_refused_before_any_download() {
    let reg = TestRegistry::start().await;
    let server_dir = tempfile::tempdir().unwrap();
    let sentinel = server_dir.path().join("sentinel");
    std::fs::write(&sentinel, b"keep me").unwrap();
    {
        let mut content = reg.content();
        let evil = "../../../../sentinel".to_string();
        content.blobs.insert(evil.clone(), b"GGUF evil".to_vec());
        content.hf_files.insert(
            "evil/Repo-GGUF".into(),
            vec![("Repo-Q4_K_M.gguf".into(), evil)],
        );
        // A file name that tries to leave the repository is not a candidate.
        let hex = hex_of(b"x");
        content.blobs.insert(hex.clone(), b"x".to_vec());
        content.hf_files.insert(
            "evil/Names-GGUF".into(),
            vec![("../../x-Q4_K_M.gguf".into(), hex)],
        );
    }
    let endpoint = format!("http://{}", reg.host);
    let server = Server::start_with(&[("HEARTH_HF_ENDPOINT", &endpoint)]).await;
    let error = pull_error(&server, "hf.co/evil/Repo-GGUF").await.unwrap();
    assert!(error.starts_with("invalid digest format"), "{error}");
    let error = pull_error(&server, "hf.co/evil/Names-GGUF").await.unwrap();
    assert!(error.contains("no GGUF file"), "{error}");
    assert_eq!(reg.shared.cdn_requests.load(Ordering::SeqCst), 0);
    assert_eq!(std::fs::read(&sentinel).unwrap(), b"keep me");
    assert!(blob_names(&store_of(&server)).is_empty());

    // A file that is not a GGUF is fetched, refused and not kept.
    reg.add_hf_file(
        "evil/Fake-GGUF",
        "Fake-Q4_K_M.gguf",
        b"not a GGUF file at all",
    );
    let error = pull_error(&server, "hf.co/evil/Fake-GGUF").await.unwrap();
    assert!(error.to_lowercase().contains("gguf"), "{error}");
    assert!(
        blob_names(&store_of(&server)).is_empty(),
        "{:?}",
        blob_names(&store_of(&server))
    );
    let (_, tags) = server.get("/api/tags").await;
    assert_eq!(tags["models"], json!([]));
}

/// Sum of `Completed` over the part states of a blob's download.
fn completed_in_states(store: &Path, hex: &str) -> (usize, u64) {
    let prefix = format!("sha256-{hex}-partial-");
    let mut count = 0;
    let mut done = 0;
    for name in blob_names(store) {
        // A `.tmp` is a state being replaced when the server died.
        if name.starts_with(&prefix) && !name.ends_with(".tmp") {
            let state: Value =
                serde_json::from_slice(&std::fs::read(store.join("blobs").join(&name)).unwrap())
                    .unwrap();
            count += 1;
            done += state["Completed"].as_u64().unwrap();
        }
    }
    (count, done)
}

#[tokio::test]
async fn a_pull_killed_with_sigkill_resumes_every_part() {
    let reg = TestRegistry::start().await;
    let weights = weights();
    let hex = hex_of(&weights);
    let manifest = reg.add_model("ns/big", "latest", &[(MODEL, &weights)]);
    // About 200 kB/s per part, 5 parts: the pull takes about two seconds.
    reg.content().throttle = Some((8 << 10, Duration::from_millis(40)));
    let mut server = Server::start_with(&[("HEARTH_DOWNLOAD_PART_SIZE", "400000")]).await;
    let name = format!("{}/ns/big", reg.host);

    let client = server.client.clone();
    let url = server.url("/api/pull");
    let body = json!({"model": name, "insecure": true});
    let first =
        tokio::spawn(async move { client.post(url).json(&body).send().await?.text().await });
    let deadline = Instant::now() + Duration::from_secs(30);
    while reg.cdn_bytes() < weights.len() as u64 / 3 {
        assert!(Instant::now() < deadline, "the pull did not progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_hard();
    let _ = first.await;
    let store = store_of(&server);
    let (parts, saved) = completed_in_states(&store, &hex);
    assert_eq!(parts, 5, "{:?}", blob_names(&store));
    assert!(saved > 0, "no progress was recorded");
    assert!(!blob_file(&server, &hex).exists());

    server.restart().await;
    reg.reset_counters();
    reg.content().throttle = None;
    assert_eq!(pull_error(&server, &name).await, None, "{}", server.log());
    let served = reg.cdn_bytes();
    eprintln!("resumed: {saved} bytes kept, {served} fetched again");
    let config_len = 200;
    assert!(
        served <= weights.len() as u64 - saved + config_len,
        "served {served} after {saved} of {} were saved",
        weights.len()
    );
    assert!(std::fs::read(blob_file(&server, &hex)).unwrap() == weights);
    let stored = store
        .join("manifests")
        .join(&reg.host)
        .join("ns/big/latest");
    assert_eq!(std::fs::read(stored).unwrap(), manifest);
    assert_eq!(completed_in_states(&store, &hex).0, 0);
    generates(&server, &name).await;
}

#[tokio::test]
async fn concurrent_pulls_of_one_model_share_one_download() {
    let reg = TestRegistry::start().await;
    let weights = weights();
    reg.add_model("ns/shared", "latest", &[(MODEL, &weights)]);
    reg.content().throttle = Some((16 << 10, Duration::from_millis(10)));
    let server = Server::start().await;
    let name = format!("{}/ns/shared", reg.host);

    let pull = |server: &Server| {
        let client = server.client.clone();
        let url = server.url("/api/pull");
        let body = json!({"model": name, "insecure": true});
        async move {
            let text = client.post(url).json(&body).send().await?.text().await?;
            Ok::<_, reqwest::Error>(text)
        }
    };
    let first = tokio::spawn(pull(&server));
    while reg.cdn_bytes() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = tokio::spawn(pull(&server));
    let (a, b) = (
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    );
    for text in [&a, &b] {
        assert!(
            text.trim_end().ends_with(r#"{"status":"success"}"#),
            "{text}"
        );
        assert!(text.contains("\"completed\""), "no progress: {text}");
    }
    let served = reg.cdn_bytes();
    assert!(
        served < weights.len() as u64 + 400,
        "served {served} bytes for a {} byte blob",
        weights.len()
    );
}

#[tokio::test]
async fn a_corrupt_download_is_detected_and_fetched_again() {
    let reg = TestRegistry::start().await;
    let weights = weights();
    let hex = hex_of(&weights);
    reg.add_model("ns/c", "latest", &[(MODEL, &weights)]);
    reg.content().corrupt_once.insert(hex.clone());
    let server = Server::start().await;
    assert_eq!(
        pull_error(&server, &format!("{}/ns/c", reg.host)).await,
        None
    );
    assert!(std::fs::read(blob_file(&server, &hex)).unwrap() == weights);
    assert!(reg.cdn_bytes() >= 2 * weights.len() as u64);
    assert!(server.log().contains("corrupt"), "{}", server.log());
}

#[tokio::test]
async fn a_stalled_part_is_retried_where_it_stopped() {
    let reg = TestRegistry::start().await;
    let weights = weights();
    let hex = hex_of(&weights);
    reg.add_model("ns/s", "latest", &[(MODEL, &weights)]);
    reg.content().stall_once.insert(hex.clone());
    let server = Server::start_with(&[("HEARTH_DOWNLOAD_STALL", "1")]).await;
    let started = Instant::now();
    assert_eq!(
        pull_error(&server, &format!("{}/ns/s", reg.host)).await,
        None
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(std::fs::read(blob_file(&server, &hex)).unwrap() == weights);
    assert!(reg.shared.cdn_requests.load(Ordering::SeqCst) >= 2);
    // The retry asked only for what the stalled request had not sent.
    assert!(reg.cdn_bytes() < weights.len() as u64 * 3 / 2 + 400);
    assert!(server.log().contains("resuming"), "{}", server.log());
}

#[tokio::test]
async fn huge_manifest_and_token_bodies_are_cut_off() {
    let reg = TestRegistry::start().await;
    reg.add_model("ns/h", "latest", &[(MODEL, b"w")]);
    let server = Server::start().await;
    let name = format!("{}/ns/h", reg.host);
    reg.content().huge = Some(Huge::Manifest);
    let error = pull_error(&server, &name).await.unwrap();
    assert!(error.contains("manifest is larger than"), "{error}");
    {
        let mut content = reg.content();
        content.huge = Some(Huge::Token);
        content.token = Some("t".into());
    }
    let error = pull_error(&server, &name).await.unwrap();
    assert!(error.contains("token response is larger than"), "{error}");
    assert_eq!(server.get("/api/version").await.0, 200);
}

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    /// `None` (and a loud note) where mounting is not permitted.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(dir)),
            Ok(o) => {
                eprintln!(
                    "SKIPPED full-disk test: cannot mount a tmpfs: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED full-disk test: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

/// Every file under `dir` with its size.
fn tree_of(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.push((path.clone(), 0));
            out.extend(tree_of(&path));
        } else {
            out.push((path.clone(), entry.metadata().unwrap().len()));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_full_disk_fails_cleanly_and_leaves_the_store_as_it_was() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let reg = TestRegistry::start().await;
    let weights = weights();
    assert!(weights.len() > 1 << 20);
    reg.add_model("ns/full", "latest", &[(MODEL, &weights)]);
    let store = disk.0.path().join("store");
    let server = Server::start_with(&[("HEARTH_MODELS", store.to_str().unwrap())]).await;
    let before = tree_of(&store);

    let (status, _, lines) = server
        .stream(
            "/api/pull",
            json!({"model": format!("{}/ns/full", reg.host), "insecure": true}),
        )
        .await;
    assert_eq!(status, 200);
    let error = lines.last().unwrap()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("no space left on device"), "{lines:?}");
    assert_eq!(tree_of(&store), before, "the store changed");
    let (_, tags) = server.get("/api/tags").await;
    assert_eq!(tags["models"], json!([]));
    drop(server);
}
