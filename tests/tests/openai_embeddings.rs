//! `POST /v1/embeddings` in OpenAI's shape (C-150).

use hearth_e2e::Server;
use serde_json::{json, Value};

fn decode_base64_f32(s: &str) -> Vec<f32> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut bytes = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let n = data
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | value(c) << (18 - 6 * i));
        for i in 0..data.len() - 1 {
            bytes.push((n >> (16 - 8 * i)) as u8);
        }
    }
    bytes
        .chunks(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[tokio::test]
async fn embeddings_in_float_and_base64_agree() {
    let s = Server::start().await;
    s.create_tiny_embed("emb").await;
    let (status, float) = s
        .post(
            "/v1/embeddings",
            json!({"model": "emb", "input": ["hello", "world"]}),
        )
        .await;
    assert_eq!(status, 200, "{float}");
    assert_eq!(float["object"], "list");
    assert_eq!(float["data"][1]["index"], 1);
    assert_eq!(float["data"][0]["object"], "embedding");
    assert!(float["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    let (_, b64) = s
        .post(
            "/v1/embeddings",
            json!({"model": "emb", "input": ["hello", "world"], "encoding_format": "base64"}),
        )
        .await;
    for i in 0..2 {
        let floats: Vec<f32> = float["data"][i]["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let decoded = decode_base64_f32(b64["data"][i]["embedding"].as_str().unwrap());
        assert_eq!(floats.len(), decoded.len());
        assert!(floats
            .iter()
            .zip(&decoded)
            .all(|(a, b)| (a - b).abs() < 1e-6));
    }
    let (_, short) = s
        .post(
            "/v1/embeddings",
            json!({"model": "emb", "input": "hi", "dimensions": 8}),
        )
        .await;
    assert_eq!(short["data"][0]["embedding"].as_array().unwrap().len(), 8);

    let (status, body) = s
        .post(
            "/v1/embeddings",
            json!({"model": "emb", "input": "x", "encoding_format": "hex"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Invalid value for 'encoding_format' = hex. Supported values: ['float', 'base64']."
    );
    let (status, body) = s
        .post("/v1/embeddings", json!({"model": "emb", "input": []}))
        .await;
    assert_eq!(
        (status, body["error"]["message"].clone()),
        (400, Value::from("invalid input"))
    );
    let (status, body) = s
        .post("/v1/embeddings", json!({"model": "nope", "input": "x"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["type"], "not_found_error");
}
