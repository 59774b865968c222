//! Transport and error behaviour of the native API, against the real
//! server: the exact status codes and messages Ollama clients rely on.

use hearth_e2e::Server;
use serde_json::json;

#[tokio::test]
async fn root_and_version() {
    let s = Server::start().await;
    let resp = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(resp.text().await.unwrap(), "Ollama is running");
    assert_eq!(
        s.client.head(s.url("/")).send().await.unwrap().status(),
        200
    );
    let (status, body) = s.get("/api/version").await;
    assert_eq!(status, 200);
    assert!(
        body["version"].as_str().unwrap().split('.').count() == 3,
        "{body}"
    );
    assert_eq!(
        s.client
            .head(s.url("/api/version"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_path_and_wrong_method() {
    let s = Server::start().await;
    let resp = s.client.get(s.url("/api/show")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.text().await.unwrap(), "405 method not allowed");
    let resp = s.client.get(s.url("/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.text().await.unwrap(), "404 page not found");
}

#[tokio::test]
async fn bad_bodies() {
    let s = Server::start().await;
    for path in [
        "/api/generate",
        "/api/chat",
        "/api/show",
        "/api/create",
        "/api/copy",
    ] {
        let (status, body) = s.post_raw(path, "").await;
        assert_eq!(
            (status, body.clone()),
            (400, json!({"error": "missing request body"})),
            "{path}"
        );
        let (status, body) = s.post_raw(path, r#"{"model": "x"#).await;
        assert_eq!(
            (status, body.clone()),
            (400, json!({"error": "unexpected EOF"})),
            "{path}"
        );
    }
}

#[tokio::test]
async fn model_errors() {
    let s = Server::start().await;
    assert_eq!(
        s.post("/api/generate", json!({})).await,
        (404, json!({"error": "model '' not found"}))
    );
    assert_eq!(
        s.post("/api/generate", json!({"model": "nope"})).await,
        (404, json!({"error": "model 'nope' not found"}))
    );
    assert_eq!(
        s.post("/api/chat", json!({})).await,
        (400, json!({"error": "model is required"}))
    );
    assert_eq!(
        s.post("/api/chat", json!({"model": "nope"})).await,
        (404, json!({"error": "model 'nope' not found"}))
    );
    assert_eq!(
        s.post("/api/show", json!({})).await,
        (400, json!({"error": "model is required"}))
    );
    assert_eq!(
        s.post("/api/show", json!({"model": "nope"})).await,
        (404, json!({"error": "model 'nope' not found"}))
    );
    assert_eq!(
        s.delete("/api/delete", json!({})).await,
        (400, json!({"error": "model is required"}))
    );
    assert_eq!(
        s.delete("/api/delete", json!({"model": "nope"})).await,
        (404, json!({"error": "model 'nope' not found"}))
    );
    assert_eq!(
        s.delete("/api/delete", json!({"model": "bad name!"})).await,
        (400, json!({"error": "name \"bad name!\" is invalid"}))
    );
    assert_eq!(
        s.post("/api/copy", json!({"source": "nope", "destination": "x"}))
            .await,
        (404, json!({"error": "model \"nope\" not found"}))
    );
    assert_eq!(
        s.post("/api/copy", json!({"source": "a b", "destination": "x"}))
            .await,
        (400, json!({"error": "source \"a b\" is invalid"}))
    );
    let (status, body) = s.get("/api/tags").await;
    assert_eq!((status, body), (200, json!({"models": []})));
    let (status, body) = s.get("/api/ps").await;
    assert_eq!((status, body), (200, json!({"models": []})));
}

#[tokio::test]
async fn create_errors() {
    let s = Server::start().await;
    assert_eq!(
        s.post("/api/create", json!({"model": "t3"})).await,
        (
            400,
            json!({"error": "neither 'from' or 'files' was specified"})
        )
    );
    assert_eq!(
        s.post("/api/create", json!({"model": "bad name!", "from": "x"}))
            .await,
        (400, json!({"error": "invalid model name"}))
    );
    let digest = format!("sha256:{}", "a".repeat(64));
    assert_eq!(
        s.post(
            "/api/create",
            json!({"model": "t", "files": {"../x.gguf": digest}})
        )
        .await,
        (400, json!({"error": "file path must be relative"}))
    );
    assert_eq!(
        s.post(
            "/api/create",
            json!({"model": "t", "files": {"x.gguf": "sha256:nothex"}})
        )
        .await,
        (400, json!({"error": "invalid digest format"}))
    );
}

#[tokio::test]
async fn blob_upload_checks_digests() {
    let s = Server::start().await;
    let data = b"hello blob".to_vec();
    let digest = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data))
    );
    let head = |d: String| s.client.head(s.url(&format!("/api/blobs/{d}"))).send();
    assert_eq!(head(digest.clone()).await.unwrap().status(), 404);
    assert_eq!(head("xyz".into()).await.unwrap().status(), 400);
    assert_eq!(
        s.post_raw(&format!("/api/blobs/{digest}"), data.clone())
            .await
            .0,
        201
    );
    assert_eq!(
        s.post_raw(&format!("/api/blobs/{digest}"), data.clone())
            .await
            .0,
        200
    );
    assert_eq!(head(digest.clone()).await.unwrap().status(), 200);

    let wrong = format!("sha256:{}", "0".repeat(64));
    let (status, body) = s
        .post_raw(&format!("/api/blobs/{wrong}"), b"other bytes".to_vec())
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().starts_with(&format!(
            "digest mismatch, expected \"{wrong}\", got \"sha256:"
        )),
        "{body}"
    );
    assert_eq!(
        head(wrong).await.unwrap().status(),
        404,
        "a mismatched upload must not appear under the claimed digest"
    );
    assert_eq!(
        s.post_raw("/api/blobs/sha256:123", "x").await,
        (400, json!({"error": "invalid digest format"}))
    );
}

#[tokio::test]
async fn corrupt_and_truncated_gguf_are_refused_and_server_stays_up() {
    let mut s = Server::start().await;
    let dir = tempfile::tempdir().unwrap();

    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"this is not a model at all").unwrap();
    let (status, body) = s.create_from_file("junk", &junk, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "supplied file was not in GGUF format");

    let good = std::fs::read(hearth_e2e::tiny_gguf()).unwrap();
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let (status, body) = s.create_from_file("truncated", &truncated, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("truncated"),
        "{body}"
    );

    let header_only = dir.path().join("header.gguf");
    std::fs::write(&header_only, &good[..64]).unwrap();
    let (status, body) = s.create_from_file("header", &header_only, json!({})).await;
    assert_eq!(status, 400, "{body}");

    assert!(s.is_running());
    assert_eq!(s.get("/api/tags").await, (200, json!({"models": []})));
}
