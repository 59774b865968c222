//! Images (issue 3, item 8): a vision model made of the tiny text GGUF and
//! the tiny CLIP projector (`scripts/make_tiny_mmproj.py`, 16 image tokens
//! per image), run by llama.cpp's multimodal library in the real runner.
//!
//! That the image is really used is shown through log probabilities: at
//! temperature 0 the same image gives bit-identical numbers every time, a
//! different image different ones, on one loaded model (so the KV cache is
//! not reused across images either).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hearth_e2e::image::png_rgb;
use hearth_e2e::Server;
use serde_json::{json, Value};

/// Image tokens the tiny projector gives any image.
const IMAGE_TOKENS: u64 = 16;

async fn with_vision() -> Server {
    let s = Server::start().await;
    s.create_tiny_vision("eyes").await;
    s
}

/// A red/green gradient PNG (`flip` swaps the channels: another picture).
fn picture(flip: bool) -> String {
    let png = png_rgb(40, 30, |x, y| {
        let (a, b) = ((x * 6) as u8, (y * 8) as u8);
        if flip {
            [b, 255 - a, 40]
        } else {
            [a, b, 200]
        }
    });
    STANDARD.encode(png)
}

fn options() -> Value {
    json!({"temperature": 0, "num_predict": 4})
}

/// The log probabilities of a non-streamed generation, as numbers.
fn logprobs(body: &Value) -> Vec<f64> {
    body["logprobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no logprobs: {body}"))
        .iter()
        .flat_map(|e| {
            e["top_logprobs"]
                .as_array()
                .expect("top_logprobs")
                .iter()
                .map(|t| t["logprob"].as_f64().expect("logprob"))
        })
        .collect()
}

#[tokio::test]
async fn show_reports_vision_and_the_projector() {
    let s = with_vision().await;
    let (status, body) = s.post("/api/show", json!({"model": "eyes"})).await;
    assert_eq!(status, 200, "{body}");
    let caps: Vec<&str> = body["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        caps.contains(&"completion") && caps.contains(&"vision"),
        "{caps:?}"
    );
    assert_eq!(
        body["projector_info"]["general.architecture"], "clip",
        "{body}"
    );
    assert_eq!(
        body["projector_info"]["clip.projector_type"], "mlp",
        "{body}"
    );
    let froms = body["modelfile"]
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert_eq!(froms, 2, "model and projector: {}", body["modelfile"]);

    // A model made from it keeps the projector.
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "eyes2", "from": "eyes", "system": "Look.", "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = s.post("/api/show", json!({"model": "eyes2"})).await;
    assert!(
        body["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("vision")),
        "{body}"
    );

    // A text-only model does not see.
    s.create_tiny("plain").await;
    let (_, body) = s.post("/api/show", json!({"model": "plain"})).await;
    assert!(
        !body["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("vision")),
        "{body}"
    );
    assert!(body.get("projector_info").is_none(), "{body}");

    // `FROM plain` + `FROM ./mmproj.gguf`: the text model gains the projector.
    let projector = s.upload_blob(hearth_e2e::tiny_mmproj_gguf()).await;
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "plain-eyes", "from": "plain", "files": {"mmproj.gguf": projector},
                   "stream": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = s.post("/api/show", json!({"model": "plain-eyes"})).await;
    assert!(
        body["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("vision")),
        "{body}"
    );
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "plain-eyes", "prompt": "x", "stream": false, "options": options(),
                   "images": [picture(false)]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["prompt_eval_count"].as_u64().unwrap() > IMAGE_TOKENS,
        "{body}"
    );

    // A projector alone is no model.
    let (status, body) = s
        .post(
            "/api/create",
            json!({"model": "only-eyes", "files": {"mmproj.gguf": projector}, "stream": false}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn generate_evaluates_the_image_tokens_and_depends_on_the_image() {
    let s = with_vision().await;
    let ask = |images: Vec<String>| {
        json!({"model": "eyes", "prompt": "What is this?", "images": images, "stream": false,
               "logprobs": true, "top_logprobs": 3, "options": options()})
    };
    let (status, text_only) = s.post("/api/generate", ask(vec![])).await;
    assert_eq!(status, 200, "{text_only}");
    let (status, a1) = s.post("/api/generate", ask(vec![picture(false)])).await;
    assert_eq!(status, 200, "{a1}\n{}", s.log());
    let (status, b) = s.post("/api/generate", ask(vec![picture(true)])).await;
    assert_eq!(status, 200, "{b}");
    let (status, a2) = s.post("/api/generate", ask(vec![picture(false)])).await;
    assert_eq!(status, 200, "{a2}");

    let base = text_only["prompt_eval_count"].as_u64().unwrap();
    let with_image = a1["prompt_eval_count"].as_u64().unwrap();
    assert_eq!(
        with_image,
        base + IMAGE_TOKENS,
        "the image's {IMAGE_TOKENS} tokens are counted"
    );
    assert_eq!(b["prompt_eval_count"], a1["prompt_eval_count"]);
    assert!(!a1["response"].as_str().unwrap().is_empty(), "{a1}");

    // Same image, same numbers; another image, other numbers.
    assert_eq!(
        logprobs(&a1),
        logprobs(&a2),
        "same image must give the same logits"
    );
    assert_eq!(a1["response"], a2["response"]);
    assert_ne!(
        logprobs(&a1),
        logprobs(&b),
        "the image must change the logits"
    );
    assert_ne!(logprobs(&a1), logprobs(&text_only));

    // The `context` field holds token ids only, so it can be sent back.
    let context = a1["context"].as_array().expect("context");
    assert!(
        context.iter().all(|t| t.as_i64().unwrap() >= 0),
        "{context:?}"
    );
}

#[tokio::test]
async fn chat_sees_images_in_any_turn() {
    let s = with_vision().await;
    let ask = |image: String| {
        json!({"model": "eyes", "stream": false, "options": options(),
               "logprobs": true, "top_logprobs": 2,
               "messages": [
                   {"role": "user", "content": "Look at [img] please.", "images": [image]},
                   {"role": "assistant", "content": "I see it."},
                   {"role": "user", "content": "What colour is it?"}]})
    };
    let (status, a) = s.post("/api/chat", ask(picture(false))).await;
    assert_eq!(status, 200, "{a}\n{}", s.log());
    assert_eq!(a["message"]["role"], "assistant");
    assert!(
        a["prompt_eval_count"].as_u64().unwrap() > IMAGE_TOKENS,
        "{a}"
    );
    let (status, b) = s.post("/api/chat", ask(picture(true))).await;
    assert_eq!(status, 200, "{b}");
    assert_ne!(
        logprobs(&a),
        logprobs(&b),
        "the image must change the logits"
    );

    // Streaming works too.
    let (status, _, lines) = s
        .stream(
            "/api/chat",
            json!({"model": "eyes", "options": options(),
                   "messages": [{"role": "user", "content": "Hi", "images": [picture(true)]}]}),
        )
        .await;
    assert_eq!(status, 200, "{lines:?}");
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true, "{last}");
    assert!(
        last["prompt_eval_count"].as_u64().unwrap() > IMAGE_TOKENS,
        "{last}"
    );
}

#[tokio::test]
async fn bad_images_get_ollamas_errors() {
    let s = with_vision().await;
    // A data URI is not base64 (C-039).
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "eyes", "prompt": "x",
                   "images": [format!("data:image/png;base64,{}", picture(false))]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "illegal base64 data at input byte 4"})
    );
    let (status, body) = s
        .post(
            "/api/chat",
            json!({"model": "eyes", "messages": [{"role": "user", "content": "x", "images": ["abc"]}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "illegal base64 data at input byte 0"})
    );

    // Valid base64 of something that is no picture.
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "eyes", "prompt": "x", "stream": false,
                   "images": [STANDARD.encode(b"definitely not an image")]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("image 0 could not be decoded"),
        "{body}"
    );

    // The runner survived and still answers.
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "eyes", "prompt": "x", "stream": false, "options": options(),
                   "images": [picture(false)]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Images for a model without a projector.
    s.create_tiny("plain").await;
    let (status, body) = s
        .post(
            "/api/generate",
            json!({"model": "plain", "prompt": "x", "images": [picture(false)]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "registry.ollama.ai/library/plain:latest does not support vision"})
    );
}

#[tokio::test]
async fn openai_image_url_parts_reach_the_model() {
    let s = with_vision().await;
    let ask = |image: String| {
        json!({"model": "eyes", "temperature": 0, "max_tokens": 3, "logprobs": true, "top_logprobs": 2,
               "messages": [{"role": "user", "content": [
                   {"type": "text", "text": "Describe"},
                   {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{image}")}}]}]})
    };
    let (status, text) = s
        .post(
            "/v1/chat/completions",
            json!({"model": "eyes", "temperature": 0, "max_tokens": 3,
                   "messages": [{"role": "user", "content": "Describe"}]}),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let (status, a) = s.post("/v1/chat/completions", ask(picture(false))).await;
    assert_eq!(status, 200, "{a}\n{}", s.log());
    let (status, b) = s.post("/v1/chat/completions", ask(picture(true))).await;
    assert_eq!(status, 200, "{b}");
    let tokens = |v: &Value| v["usage"]["prompt_tokens"].as_u64().unwrap();
    assert_eq!(tokens(&a), tokens(&text) + IMAGE_TOKENS, "{a} vs {text}");
    let lps = |v: &Value| v["choices"][0]["logprobs"].to_string();
    assert_ne!(lps(&a), lps(&b), "the image must change the logits");

    let (status, body) = s
        .post(
            "/v1/chat/completions",
            json!({"model": "eyes", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "image URLs are not currently supported, please use base64 encoded data instead"
    );
}

#[tokio::test]
async fn images_count_when_old_turns_are_dropped() {
    let s = with_vision().await;
    let ask = |num_ctx: u64, words: usize| {
        json!({"model": "eyes", "stream": false,
               "options": {"temperature": 0, "num_predict": 2, "num_ctx": num_ctx},
               "messages": [
                   {"role": "user", "content": "Look.", "images": [picture(false)]},
                   {"role": "assistant", "content": "Yes."},
                   {"role": "user", "content": "the fire ".repeat(words)}]})
    };
    // The context llama.cpp really allocates for a small num_ctx (it pads).
    let (status, body) = s.post("/api/chat", ask(64, 1)).await;
    assert_eq!(status, 200, "{body}");
    let (_, ps) = s.get("/api/ps").await;
    let n_ctx = ps["models"][0]["context_length"].as_u64().unwrap();
    // Grow the last message until text and image together just overflow it,
    // measured with a context large enough to hold everything.
    let mut words = 1;
    let all = loop {
        let (status, full) = s.post("/api/chat", ask(512, words)).await;
        assert_eq!(status, 200, "{full}");
        let all = full["prompt_eval_count"].as_u64().unwrap();
        if all > n_ctx {
            break all;
        }
        words += 1;
    };
    assert!(
        all <= n_ctx + 4,
        "steps of one word are small: {all} vs {n_ctx}"
    );
    // The text alone fits, the image does not: the turn that carries it is
    // dropped (with its image), and the rest runs.
    let (status, cut) = s.post("/api/chat", ask(64, words)).await;
    assert_eq!(status, 200, "{cut}\n{}", s.log());
    let kept = cut["prompt_eval_count"].as_u64().unwrap();
    assert!(kept + IMAGE_TOKENS < all, "{kept} vs {all}");
}

#[tokio::test]
async fn anthropic_image_blocks_reach_the_model() {
    let s = with_vision().await;
    let ask = |image: Option<String>| {
        let mut content = vec![json!({"type": "text", "text": "Describe"})];
        if let Some(data) = image {
            content.insert(
                0,
                json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}),
            );
        }
        json!({"model": "eyes", "max_tokens": 3, "temperature": 0,
               "messages": [{"role": "user", "content": content}]})
    };
    let (status, text) = s.post("/v1/messages", ask(None)).await;
    assert_eq!(status, 200, "{text}");
    let (status, seen) = s.post("/v1/messages", ask(Some(picture(false)))).await;
    assert_eq!(status, 200, "{seen}\n{}", s.log());
    let tokens = |v: &Value| v["usage"]["input_tokens"].as_u64().unwrap();
    assert_eq!(
        tokens(&seen),
        tokens(&text) + IMAGE_TOKENS,
        "{seen} vs {text}"
    );
}
