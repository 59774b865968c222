//! Fuzzes the request JSON decoders and the field validators the server
//! runs on them. The first byte picks the endpoint (generate, chat or
//! create); the rest is the body. Decoding or validating may fail, but
//! never panic.

#![no_main]

use hearth_api::options::{merge_options, parse_param, validate_options, Options};
use hearth_api::{ChatRequest, CreateRequest, GenerateRequest, KeepAlive, OutputFormat, Think};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => generate(body),
        1 => chat(body),
        _ => create(body),
    }
});

fn generate(body: &[u8]) {
    if let Ok(req) = serde_json::from_slice::<GenerateRequest>(body) {
        common(&req.keep_alive, &req.think, &req.format, &req.options);
    }
}

fn chat(body: &[u8]) {
    if let Ok(req) = serde_json::from_slice::<ChatRequest>(body) {
        common(&req.keep_alive, &req.think, &req.format, &req.options);
    }
}

fn create(body: &[u8]) {
    let Ok(req) = serde_json::from_slice::<CreateRequest>(body) else {
        return;
    };
    options(&req.parameters);
    // Modelfile-style parameters arrive as text in some clients.
    for (name, value) in &req.parameters {
        if let Value::String(raw) = value {
            let _ = parse_param(name, raw);
        }
    }
}

/// The checks generate and chat share, in the server's order.
fn common(
    keep_alive: &Option<Value>,
    think: &Option<Value>,
    format: &Option<Value>,
    opts: &Option<Map<String, Value>>,
) {
    if let Ok(Some(k)) = KeepAlive::from_request(keep_alive.as_ref()) {
        let _ = k.duration();
        let _ = k.to_value();
    }
    if let Ok(Some(t)) = Think::from_request(think.as_ref()) {
        let _ = t.to_value();
    }
    let _ = OutputFormat::from_request(format.as_ref());
    if let Some(map) = opts {
        options(map);
    }
}

fn options(map: &Map<String, Value>) {
    if validate_options(map).is_ok() {
        let _ = Options::from_map(map);
    }
    let mut base = Map::new();
    merge_options(&mut base, map);
}
