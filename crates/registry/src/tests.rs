//! Pull against an in-process fake registry: the bearer challenge, ranged
//! resume from a partial file, a corrupt blob, and a realm on another host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hearth_store::manifest::{media_type, Layer};
use hearth_store::{Digest, Manifest, Name, Store};

use crate::{pull, Options, Progress, RegistryError};

#[derive(Default)]
struct Fake {
    manifest: Vec<u8>,
    blobs: HashMap<String, Vec<u8>>,
    /// The realm the challenge names; `None` serves without auth.
    realm: Option<String>,
    /// Body bytes of blobs sent so far.
    served: u64,
    /// Answer every blob GET with the whole blob (`200`), ranges or not.
    ignore_range: bool,
    log: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

fn authorized(fake: &Fake, headers: &HeaderMap) -> bool {
    fake.realm.is_none()
        || headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer t0k")
}

fn challenge(fake: &Fake) -> Response {
    let realm = fake.realm.clone().unwrap_or_default();
    let value = format!(r#"Bearer realm="{realm}",service="fake",scope="repository:ns/m:pull""#);
    (StatusCode::UNAUTHORIZED, [("www-authenticate", value)]).into_response()
}

async fn manifest(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let fake = s.lock().unwrap();
    if !authorized(&fake, &headers) {
        return challenge(&fake);
    }
    fake.manifest.clone().into_response()
}

async fn blob(State(s): State<Shared>, Path(d): Path<String>, headers: HeaderMap) -> Response {
    let mut fake = s.lock().unwrap();
    fake.log.push(d.clone());
    if !authorized(&fake, &headers) {
        return challenge(&fake);
    }
    let Some(body) = fake.blobs.get(&d).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let start = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split('-').next()?.parse::<usize>().ok())
        .filter(|_| !fake.ignore_range);
    match start {
        Some(start) => {
            fake.served += (body.len() - start) as u64;
            let range = format!("bytes {start}-{}/{}", body.len() - 1, body.len());
            let part = body[start..].to_vec();
            (
                StatusCode::PARTIAL_CONTENT,
                [("content-range", range)],
                part,
            )
                .into_response()
        }
        None => {
            fake.served += body.len() as u64;
            body.into_response()
        }
    }
}

async fn token() -> &'static str {
    r#"{"token":"t0k"}"#
}

/// Starts the fake registry; returns its `host:port`.
async fn serve(fake: Shared) -> String {
    let app = Router::new()
        .route("/v2/ns/m/manifests/{tag}", get(manifest))
        .route("/v2/ns/m/blobs/{digest}", get(blob))
        .route("/token", get(token))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

/// A fake holding a two-blob model (weights and config).
fn model(weights: &[u8]) -> (Fake, Digest) {
    let config = br#"{"model_format":"gguf"}"#.to_vec();
    let wd = Digest::of_bytes(weights);
    let cd = Digest::of_bytes(&config);
    let m = Manifest::new(
        Layer::new(media_type::CONFIG, &cd, config.len() as u64),
        vec![Layer::new(media_type::MODEL, &wd, weights.len() as u64)],
    );
    let fake = Fake {
        manifest: m.to_bytes().unwrap(),
        blobs: HashMap::from([(wd.to_string(), weights.to_vec()), (cd.to_string(), config)]),
        ..Fake::default()
    };
    (fake, wd)
}

async fn pull_into(store: &Store, host: &str) -> Result<Vec<Progress>, RegistryError> {
    let name = Name::parse(&format!("{host}/ns/m:latest")).unwrap();
    let mut seen = Vec::new();
    let opts = Options {
        insecure: true,
        ..Options::default()
    };
    pull(store, &name, &opts, &mut |p| seen.push(p)).await?;
    Ok(seen)
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("models")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn pulls_through_a_token_challenge() {
    let (mut fake, weights) = model(b"weights weights weights");
    let shared = Arc::new(Mutex::new(Fake::default()));
    let host = serve(shared.clone()).await;
    fake.realm = Some(format!("http://{host}/token"));
    let manifest = fake.manifest.clone();
    *shared.lock().unwrap() = fake;

    let (_dir, store) = temp_store();
    let seen = pull_into(&store, &host).await.unwrap();
    assert!(store.has_blob(&weights));
    let name = Name::parse(&format!("{host}/ns/m")).unwrap();
    assert_eq!(store.read_manifest_bytes(&name).unwrap().unwrap(), manifest);
    let statuses: Vec<String> = seen.iter().map(Progress::status).collect();
    assert_eq!(statuses.first().unwrap(), "pulling manifest");
    assert_eq!(statuses.last().unwrap(), "writing manifest");
    assert!(statuses.contains(&format!("pulling {}", weights.short())));
}

#[tokio::test]
async fn resumes_from_a_partial_file() {
    let weights: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let (fake, digest) = model(&weights);
    let shared = Arc::new(Mutex::new(fake));
    let host = serve(shared.clone()).await;
    let (_dir, store) = temp_store();
    std::fs::write(store.partial_path(&digest), &weights[..60_000]).unwrap();
    pull_into(&store, &host).await.unwrap();
    assert!(store.has_blob(&digest));
    assert!(!store.partial_path(&digest).exists());
    // 40,000 weight bytes plus the small config: the prefix was not re-sent.
    let served = shared.lock().unwrap().served;
    assert!(served < 41_000, "served {served}");
}

#[tokio::test]
async fn corrupt_blob_never_becomes_visible() {
    let (mut fake, digest) = model(b"the real weights");
    fake.blobs
        .insert(digest.to_string(), b"the fake weights".to_vec());
    let host = serve(Arc::new(Mutex::new(fake))).await;
    let (_dir, store) = temp_store();
    let err = pull_into(&store, &host).await.unwrap_err();
    assert!(err.to_string().starts_with("digest mismatch"), "{err}");
    assert!(!store.has_blob(&digest));
    assert!(!store.partial_path(&digest).exists());
    assert!(store.list().unwrap().is_empty());
}

#[tokio::test]
async fn realm_on_another_host_is_refused() {
    let (mut fake, _) = model(b"w");
    fake.realm = Some("http://evil.example/token".into());
    let host = serve(Arc::new(Mutex::new(fake))).await;
    let (_dir, store) = temp_store();
    let err = pull_into(&store, &host).await.unwrap_err();
    assert!(matches!(err, RegistryError::ForeignRealm { .. }), "{err}");
}

#[tokio::test]
async fn unknown_model_is_ollamas_error() {
    let host = serve(Arc::new(Mutex::new(Fake::default()))).await;
    let (_dir, store) = temp_store();
    let name = Name::parse(&format!("{host}/ns/other")).unwrap();
    let err = pull(
        &store,
        &name,
        &Options {
            insecure: true,
            ..Options::default()
        },
        &mut |_| {},
    )
    .await
    .unwrap_err();
    // axum's 404 for an unrouted path, as a registry answers unknown repos.
    assert_eq!(err.to_string(), "pull model manifest: file does not exist");
}

#[tokio::test]
async fn symlinks_in_the_blob_store_are_not_followed() {
    let weights: Vec<u8> = (0..50_000u32).map(|i| (i % 13) as u8).collect();
    let (fake, digest) = model(&weights);
    let host = serve(Arc::new(Mutex::new(fake))).await;
    let (dir, store) = temp_store();
    let outside = dir.path().join("outside");
    std::fs::write(&outside, b"keep me").unwrap();
    std::os::unix::fs::symlink(&outside, store.partial_path(&digest)).unwrap();
    std::os::unix::fs::symlink(&outside, store.partial_part_path(&digest, 0)).unwrap();
    pull_into(&store, &host).await.unwrap();
    assert_eq!(std::fs::read(&outside).unwrap(), b"keep me");
    assert_eq!(std::fs::read(store.blob_path(&digest)).unwrap(), weights);
}

#[tokio::test]
async fn a_prefix_left_by_a_single_stream_download_is_resumed_in_parts() {
    let weights: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let (fake, digest) = model(&weights);
    let shared = Arc::new(Mutex::new(fake));
    let host = serve(shared.clone()).await;
    let (_dir, store) = temp_store();
    std::fs::write(store.partial_path(&digest), &weights[..30_000]).unwrap();
    let name = Name::parse(&format!("{host}/ns/m:latest")).unwrap();
    let opts = Options {
        insecure: true,
        part_size: Some(25_000),
        ..Options::default()
    };
    pull(&store, &name, &opts, &mut |_| {}).await.unwrap();
    assert_eq!(std::fs::read(store.blob_path(&digest)).unwrap(), weights);
    // No part states are left behind.
    let left: Vec<_> = std::fs::read_dir(store.blobs_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn a_registry_that_ignores_ranges_still_fills_every_part() {
    let weights: Vec<u8> = (0..90_000u32).map(|i| (i % 241) as u8).collect();
    let (mut fake, digest) = model(&weights);
    fake.ignore_range = true;
    let host = serve(Arc::new(Mutex::new(fake))).await;
    let (_dir, store) = temp_store();
    let name = Name::parse(&format!("{host}/ns/m:latest")).unwrap();
    let opts = Options {
        insecure: true,
        part_size: Some(20_000),
        ..Options::default()
    };
    pull(&store, &name, &opts, &mut |_| {}).await.unwrap();
    assert_eq!(std::fs::read(store.blob_path(&digest)).unwrap(), weights);
}
