//! Model management end to end: create, list, show, copy, delete, and
//! case-insensitive names.

use hearth_e2e::Server;
use serde_json::json;

#[tokio::test]
async fn create_streams_progress_and_lists_the_model() {
    let s = Server::start().await;
    let bytes = std::fs::read(hearth_e2e::tiny_gguf()).unwrap();
    let digest = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
    );
    assert_eq!(
        s.post_raw(&format!("/api/blobs/{digest}"), bytes.clone())
            .await
            .0,
        201
    );
    // A present blob is answered before its body is read, so the connection
    // is closed; pooled clients re-uploading must never see a hang-up.
    for _ in 0..10 {
        let resp = s
            .client
            .post(s.url(&format!("/api/blobs/{digest}")))
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["connection"], "close");
    }
    // A body read to its end keeps the connection, whatever the answer.
    let resp = s
        .client
        .post(s.url("/api/show"))
        .json(&json!({"model": "no-such-model"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.headers().get("connection").is_none());
    let (status, ctype, lines) = s
        .stream(
            "/api/create",
            json!({"model": "Foo:Latest", "files": {"tiny.gguf": digest}, "system": "You are Mario",
                                      "parameters": {"temperature": 0.2, "stop": ["x"]}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ctype, "application/x-ndjson");
    let statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.first(), Some(&"parsing GGUF"));
    assert!(
        statuses.contains(&format!("using existing layer {digest}").as_str()),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .any(|s| s.starts_with("creating new layer sha256:")),
        "{statuses:?}"
    );
    assert_eq!(
        &statuses[statuses.len() - 2..],
        ["writing manifest", "success"]
    );

    let tags = s.get("/api/tags").await.1;
    let m = &tags["models"][0];
    assert_eq!(m["name"], "Foo:Latest");
    assert_eq!(m["model"], "Foo:Latest");
    assert_eq!(m["digest"].as_str().unwrap().len(), 64);
    assert!(m["size"].as_u64().unwrap() > bytes.len() as u64);
    assert_eq!(m["details"]["format"], "gguf");
    assert_eq!(m["details"]["family"], "llama");
    assert_eq!(m["capabilities"], json!(["completion"]));

    // Case-insensitive lookup.
    let (status, show) = s.post("/api/show", json!({"model": "foo"})).await;
    assert_eq!(status, 200, "{show}");
    assert_eq!(show["system"], "You are Mario");
    assert_eq!(show["model_info"]["general.architecture"], "llama");
    assert!(show["model_info"].get("tokenizer.chat_template").is_none());
    assert_eq!(
        show["model_info"]["tokenizer.ggml.tokens"],
        json!([]),
        "long arrays are elided unless verbose"
    );
    assert!(show["parameters"].as_str().unwrap().contains("temperature"));
    assert!(show["modelfile"].as_str().unwrap().contains("SYSTEM"));
    assert!(show["template"].as_str().unwrap().contains("im_start"));
    assert_eq!(show["capabilities"], json!(["completion"]));
    let verbose = s
        .post("/api/show", json!({"model": "foo", "verbose": true}))
        .await
        .1;
    assert!(
        verbose["model_info"]["tokenizer.ggml.tokens"]
            .as_array()
            .unwrap()
            .len()
            > 100
    );
    assert!(verbose["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "token_embd.weight"));

    // stream:false answers one JSON object.
    let resp = s
        .client
        .post(s.url("/api/create"))
        .json(&json!({"model": "mario2", "from": "foo", "system": "Luigi", "stream": false, "parameters": {"top_k": 7}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "success"})
    );
    let show2 = s.post("/api/show", json!({"model": "mario2"})).await.1;
    assert_eq!(show2["system"], "Luigi");
    let params = show2["parameters"].as_str().unwrap();
    assert!(
        params.contains("top_k") && params.contains("temperature"),
        "base params are merged: {params}"
    );
    assert_eq!(show2["details"]["parent_model"], "Foo:Latest");
}

#[tokio::test]
async fn copy_and_delete() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    assert_eq!(
        s.post(
            "/api/copy",
            json!({"source": "tiny", "destination": "tiny-copy"})
        )
        .await,
        (200, serde_json::Value::Null)
    );
    let tags = s.get("/api/tags").await.1;
    let models = tags["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["digest"], models[1]["digest"]);

    let blobs = || {
        std::fs::read_dir(s.models.path().join("store/blobs"))
            .unwrap()
            .count()
    };
    let before = blobs();
    assert_eq!(
        s.delete("/api/delete", json!({"model": "tiny-copy"})).await,
        (200, serde_json::Value::Null)
    );
    assert_eq!(blobs(), before, "blobs still used by tiny stay");
    assert_eq!(
        s.delete("/api/delete", json!({"model": "tiny"})).await,
        (200, serde_json::Value::Null)
    );
    assert_eq!(blobs(), 0, "unreferenced blobs are removed");
    assert_eq!(s.get("/api/tags").await.1, json!({"models": []}));
}

#[tokio::test]
async fn go_and_jinja_templates_from_create_are_used() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let greedy = json!({"num_predict": 8, "temperature": 0});
    // A Go template that passes the prompt through renders exactly the raw prompt.
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "go", "from": "tiny", "template": "{{ .Prompt }}", "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let raw = s.post("/api/generate", json!({"model": "tiny", "prompt": "Hello world", "raw": true, "stream": false, "options": greedy})).await.1;
    let go = s
        .post(
            "/api/generate",
            json!({"model": "go", "prompt": "Hello world", "stream": false, "options": greedy}),
        )
        .await
        .1;
    assert_eq!(go["response"], raw["response"]);
    // The same through a Jinja template.
    let (status, body) = s
        .post("/api/create", json!({"model": "jinja", "from": "tiny", "stream": false,
                                    "template": "{% for m in messages %}{{ m.content }}{% endfor %}"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let jinja = s
        .post(
            "/api/generate",
            json!({"model": "jinja", "prompt": "Hello world", "stream": false, "options": greedy}),
        )
        .await
        .1;
    assert_eq!(jinja["response"], raw["response"]);
    // Broken templates are refused at create time.
    for bad in ["{{ if .System }}", "{% for %}"] {
        let (status, body) = s
            .post(
                "/api/create",
                json!({"model": "bad", "from": "tiny", "template": bad}),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("template error"),
            "{body}"
        );
    }
}
