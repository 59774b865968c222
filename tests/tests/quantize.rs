//! `/api/create` with `quantize`: llama.cpp's quantizer, in a child
//! process, turns F32/F16/BF16 weights into a new quantized layer.

use hearth_e2e::Server;
use serde_json::json;

#[tokio::test]
async fn quantize_an_f32_model_to_q8_0() {
    let s = Server::start().await;
    s.create_tiny("tiny").await;
    let (status, _, lines) = s
        .stream(
            "/api/create",
            json!({"model": "tiny-q8", "from": "tiny", "quantize": "q8_0"}),
        )
        .await;
    assert_eq!(status, 200);
    let statuses: Vec<&str> = lines.iter().filter_map(|l| l["status"].as_str()).collect();
    assert!(
        statuses.contains(&"quantizing F32 model to Q8_0"),
        "{lines:?}"
    );
    assert_eq!(statuses.last(), Some(&"success"), "{lines:?}");
    let show = s.post("/api/show", json!({"model": "tiny-q8"})).await.1;
    assert_eq!(show["details"]["quantization_level"], "Q8_0");
    assert_eq!(show["model_info"]["general.file_type"], 7);
    let (status, body) = s
        .post("/api/generate", json!({"model": "tiny-q8", "prompt": "Hi", "stream": false, "options": {"num_predict": 4}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let tags = s.get("/api/tags").await.1;
    let sizes: Vec<u64> = tags["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["size"].as_u64().unwrap())
        .collect();
    assert!(
        sizes[0] < sizes[1] || sizes[1] < sizes[0],
        "the quantized model is a different size: {sizes:?}"
    );

    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "again", "from": "tiny-q8", "quantize": "q4_K_M"}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "quantization is only supported for F16, BF16 and F32 models"})
        )
    );
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "x", "from": "tiny", "quantize": "q2_K"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "unsupported quantization type q2_K - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0"
    );
}
