//! Concurrent requests on one model: continuous batching keeps streams
//! isolated (their own continuation, their own grammar), a client that
//! disconnects frees its slot for the next request at once, and a full
//! queue answers 503 with `Retry-After`.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use hearth_e2e::Server;
use serde_json::{json, Value};

/// Prompts that repeat a distinctive cycle, and the word that continues it
/// (each checked against a solo run of Gemma 3 270M; `<bos>` is parsed as
/// the special token and these raw prompts need it).
const CYCLES: [(&str, &str); 8] = [
    (
        "<bos>List: apple, banana, cherry, apple, banana, cherry, apple, banana,",
        "cherry",
    ),
    (
        "<bos>one two three four one two three four one two three four one two",
        "three",
    ),
    (
        "<bos>red green blue red green blue red green blue red green",
        "blue",
    ),
    (
        "<bos>Monday Tuesday Wednesday Monday Tuesday Wednesday Monday Tuesday Wednesday Monday Tuesday",
        "Wednesday",
    ),
    (
        "<bos>cat dog bird fish cat dog bird fish cat dog bird fish cat dog bird",
        "fish",
    ),
    (
        "<bos>north south east west north south east west north south east west north south east",
        "west",
    ),
    (
        "<bos>alpha beta gamma alpha beta gamma alpha beta gamma alpha beta",
        "gamma",
    ),
    (
        "<bos>sun moon star sun moon star sun moon star sun moon",
        "star",
    ),
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[tokio::test]
async fn eight_concurrent_streams_continue_their_own_sequences_and_grammars() {
    let Some(s) = Server::with_gemma(&[("HEARTH_NUM_PARALLEL", "8")]).await else {
        return;
    };
    let options = json!({"num_predict": 6, "temperature": 0, "num_ctx": 512, "num_batch": 64});
    let schema = json!({
        "type": "object",
        "properties": {"count": {"type": "integer", "minimum": 0, "maximum": 99}},
        "required": ["count"],
        "additionalProperties": false
    });
    let cycles = CYCLES.iter().map(|(prompt, _)| {
        s.stream(
            "/api/generate",
            json!({"model": "gemma3:270m", "prompt": prompt, "raw": true, "options": options}),
        )
    });
    // Four more at the same time, constrained by a JSON schema: they
    // queue behind the eight slots and must still get their own grammar.
    let constrained = (0..4).map(|i| {
        s.post(
            "/api/generate",
            json!({"model": "gemma3:270m", "prompt": format!("How many apples are in {i} baskets of {i}? Answer in JSON."),
                   "stream": false, "format": schema,
                   "options": {"num_predict": 40, "temperature": 0.7, "seed": i, "num_ctx": 512, "num_batch": 64}}),
        )
    });
    let (streams, constrained) = tokio::join!(join_all(cycles), join_all(constrained));

    let all_words: Vec<&str> = CYCLES.iter().map(|(_, next)| *next).collect();
    for ((prompt, next), (status, _, lines)) in CYCLES.iter().zip(&streams) {
        assert_eq!(*status, 200, "{prompt}: {lines:?}");
        let text = hearth_e2e::text_of(lines);
        let got = words(&text);
        assert_eq!(
            got.first().map(String::as_str),
            Some(next.to_lowercase().as_str()),
            "{prompt:?} continued with {text:?}"
        );
        // Nothing from another stream's cycle leaks in.
        let own = words(prompt);
        for w in &got {
            let foreign = all_words
                .iter()
                .any(|x| x.to_lowercase() == *w && !own.contains(w));
            assert!(
                !foreign,
                "{prompt:?} got another stream's word {w:?}: {text:?}"
            );
        }
        assert_eq!(lines.last().unwrap()["done"], true);
    }
    for (status, body) in constrained {
        assert_eq!(status, 200, "{body}");
        let text = body["response"].as_str().unwrap();
        let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert!(v["count"].is_i64(), "{v}");
        assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    }
}

#[tokio::test]
async fn grammars_stay_with_their_own_requests_under_batching() {
    let s = Server::start_with(&[("HEARTH_NUM_PARALLEL", "4")]).await;
    s.create_tiny("tiny").await;
    let schema = json!({
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer", "minimum": 0, "maximum": 9}},
        "required": ["ok", "n"],
        "additionalProperties": false
    });
    let requests = (0..8).map(|i| {
        let mut body = json!({"model": "tiny", "prompt": format!("request {i}"), "stream": false,
                              "options": {"seed": i, "temperature": 1.0, "num_predict": 60}});
        if i % 2 == 0 {
            body["format"] = schema.clone();
        }
        s.post("/api/generate", body)
    });
    let answers = join_all(requests).await;
    let mut free_form_json = 0;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 200, "{body}");
        let text = body["response"].as_str().unwrap();
        let parsed = serde_json::from_str::<Value>(text);
        if i % 2 == 0 {
            let v = parsed.unwrap_or_else(|e| panic!("request {i}: {text:?}: {e}"));
            assert!(v["ok"].is_boolean() && v["n"].is_i64(), "request {i}: {v}");
        } else if parsed.is_ok_and(|v| v.is_object()) {
            free_form_json += 1;
        }
    }
    // The random-weight model writes noise when unconstrained: a grammar
    // leaking into those slots would make them JSON objects.
    assert_eq!(free_form_json, 0, "{answers:?}");
}

/// Reads an NDJSON stream until its first content chunk.
async fn first_chunk(resp: &mut reqwest::Response) {
    let mut seen = String::new();
    while let Some(chunk) = resp.chunk().await.expect("stream") {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains("\"response\":\"") && !seen.contains("\"response\":\"\"") {
            return;
        }
    }
    panic!("stream ended before any text: {seen}");
}

#[tokio::test]
async fn a_disconnect_frees_the_slot_for_the_queued_request() {
    let Some(s) = Server::with_gemma(&[("HEARTH_NUM_PARALLEL", "1")]).await else {
        return;
    };
    let long = json!({"model": "gemma3:270m", "prompt": "Once upon a time", "raw": true,
                      "options": {"num_predict": 4000, "temperature": 0, "num_ctx": 8192}});
    let mut first = s
        .client
        .post(s.url("/api/generate"))
        .json(&long)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    first_chunk(&mut first).await;
    // Measure its pace, to know how long it would still run.
    let pace_started = Instant::now();
    let mut chunks = 0;
    while chunks < 10 {
        first.chunk().await.unwrap().expect("still streaming");
        chunks += 1;
    }
    let per_token = pace_started.elapsed() / chunks;
    let would_run = per_token * (4000 - 11);

    // The next request queues behind the only slot.
    let queued = {
        let client = s.client.clone();
        let url = s.url("/api/generate");
        tokio::spawn(async move {
            let body = json!({"model": "gemma3:270m", "prompt": "Hi", "raw": true, "stream": false,
                              "options": {"num_predict": 2, "temperature": 0, "num_ctx": 8192}});
            let resp = client.post(url).json(&body).send().await.unwrap();
            (Instant::now(), resp.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !queued.is_finished(),
        "the second request waits for the slot"
    );
    let ps = s.get("/api/ps").await.1;
    assert_eq!(ps["models"][0]["active_requests"], 1, "{ps}");

    let disconnected = Instant::now();
    drop(first);
    let (finished, status) = queued.await.unwrap();
    assert_eq!(status, 200);
    let waited = finished - disconnected;
    assert!(
        waited < would_run / 4 && waited < Duration::from_secs(30),
        "the queued request took {waited:?} after the disconnect; the long one had {would_run:?} to go"
    );
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let Some(s) =
        Server::with_gemma(&[("HEARTH_NUM_PARALLEL", "1"), ("HEARTH_MAX_QUEUE", "1")]).await
    else {
        return;
    };
    let body = |n: u32| {
        json!({"model": "gemma3:270m", "prompt": "Once upon a time", "raw": true,
               "options": {"num_predict": n, "temperature": 0}})
    };
    let mut running = s
        .client
        .post(s.url("/api/generate"))
        .json(&body(4000))
        .send()
        .await
        .unwrap();
    first_chunk(&mut running).await;
    let waiting = {
        let client = s.client.clone();
        let url = s.url("/api/generate");
        let b = body(1);
        tokio::spawn(async move { client.post(url).json(&b).send().await.unwrap().status() })
    };
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let refused = s
        .client
        .post(s.url("/api/generate"))
        .json(&body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let retry = refused
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .to_string();
    assert!(retry.parse::<u32>().is_ok_and(|n| n > 0), "{retry}");
    let err: Value = refused.json().await.unwrap();
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("maximum pending requests exceeded"),
        "{err}"
    );
    drop(running);
    assert_eq!(waiting.await.unwrap(), 200);
}
