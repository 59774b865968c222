//! An existing Ollama store, laid out by hand exactly as Ollama writes it
//! (manifest JSON, `sha256-` blobs, a Go template layer and a params
//! layer), is listed and runs when `HEARTH_MODELS` points at it.

use std::path::Path;

use hearth_e2e::Server;
use serde_json::json;
use sha2::{Digest, Sha256};

fn put_blob(blobs: &Path, bytes: &[u8]) -> (String, u64) {
    let hex = hex::encode(Sha256::digest(bytes));
    std::fs::write(blobs.join(format!("sha256-{hex}")), bytes).unwrap();
    (format!("sha256:{hex}"), bytes.len() as u64)
}

#[tokio::test]
async fn ollama_store_is_listed_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("models");
    let blobs = root.join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let (model, model_size) = put_blob(&blobs, &std::fs::read(hearth_e2e::tiny_gguf()).unwrap());
    let template = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n";
    let (tmpl, tmpl_size) = put_blob(&blobs, template.as_bytes());
    let (params, params_size) = put_blob(&blobs, b"{\"num_thread\":1,\"stop\":[\"<|im_end|>\"]}\n");
    let config = br#"{"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"463K","file_type":"F32","architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let (cfg, cfg_size) = put_blob(&blobs, config);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": cfg, "size": cfg_size},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": model, "size": model_size},
            {"mediaType": "application/vnd.ollama.image.template", "digest": tmpl, "size": tmpl_size},
            {"mediaType": "application/vnd.ollama.image.params", "digest": params, "size": params_size}
        ]
    });
    let mdir = root.join("manifests/registry.ollama.ai/library/tinyllama");
    std::fs::create_dir_all(&mdir).unwrap();
    std::fs::write(mdir.join("latest"), serde_json::to_vec(&manifest).unwrap()).unwrap();

    let s = Server::start_with(&[("HEARTH_MODELS", root.to_str().unwrap())]).await;
    let tags = s.get("/api/tags").await.1;
    assert_eq!(tags["models"][0]["name"], "tinyllama:latest", "{tags}");
    assert_eq!(tags["models"][0]["details"]["parameter_size"], "463K");
    let show = s.post("/api/show", json!({"model": "tinyllama"})).await.1;
    assert_eq!(show["template"], template);
    let (status, _, lines) = s
        .stream(
            "/api/chat",
            json!({"model": "tinyllama", "messages": [{"role": "user", "content": "Hi"}],
                                   "options": {"num_predict": 4, "temperature": 0}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(lines.last().unwrap()["done"], true, "{lines:?}");
    assert!(lines.last().unwrap()["prompt_eval_count"].as_u64().unwrap() > 3);

    // Another program sharing the store (Ollama itself, or the one writing
    // instance of a fleet) adds and removes tags: the list follows at once.
    std::fs::copy(mdir.join("latest"), mdir.join("other")).unwrap();
    let names = |tags: serde_json::Value| -> Vec<String> {
        let mut n: Vec<String> = tags["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names(s.get("/api/tags").await.1),
        ["tinyllama:latest", "tinyllama:other"]
    );
    std::fs::remove_file(mdir.join("latest")).unwrap();
    assert_eq!(names(s.get("/api/tags").await.1), ["tinyllama:other"]);
}
