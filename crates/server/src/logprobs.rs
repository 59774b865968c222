//! `logprobs` in generate and chat responses (spec §3.7): the engine's
//! per-token log probabilities in Ollama's wire shape, added to a streamed
//! chunk or, accumulated, to a non-streamed response.

use hearth_api::{Logprob, TokenLogprob as WireCandidate};
use hearth_engine::logprob::Candidate;
use hearth_engine::TokenLogprob;
use serde_json::{Map, Value};

/// What the engine should report: nothing unless `logprobs` is set, then
/// each token and its `top_logprobs` alternatives (already checked to be
/// in 0..=20).
pub fn wanted(logprobs: bool, top_logprobs: i64) -> Option<u32> {
    logprobs.then(|| top_logprobs.clamp(0, 20) as u32)
}

/// Adds `"logprobs"` to a chunk when there are any.
pub fn attach(chunk: &mut Value, entries: &[TokenLogprob]) {
    if let Some(fields) = chunk.as_object_mut() {
        insert(fields, entries);
    }
}

/// Adds `"logprobs"` to a response's fields when there are any.
pub fn insert(fields: &mut Map<String, Value>, entries: &[TokenLogprob]) {
    if entries.is_empty() {
        return;
    }
    let wire: Vec<Logprob> = entries.iter().map(to_wire).collect();
    fields.insert(
        "logprobs".into(),
        serde_json::to_value(wire).expect("logprobs serialize"),
    );
}

fn to_wire(entry: &TokenLogprob) -> Logprob {
    let token = candidate(&entry.token);
    Logprob {
        token: token.token,
        logprob: token.logprob,
        bytes: token.bytes,
        top_logprobs: entry.top.iter().map(candidate).collect(),
    }
}

fn candidate(c: &Candidate) -> WireCandidate {
    WireCandidate {
        token: String::from_utf8_lossy(&c.bytes).into_owned(),
        logprob: shortest(c.logprob),
        bytes: c.bytes.clone(),
    }
}

/// The float32 as the float64 with the same shortest decimal form, so
/// `-0.12` goes out as `-0.12`, not `-0.11999999731779099`.
fn shortest(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cand(text: &str, logprob: f32) -> Candidate {
        Candidate {
            bytes: text.as_bytes().to_vec(),
            logprob,
        }
    }

    #[test]
    fn only_when_asked() {
        assert_eq!(wanted(false, 5), None);
        assert_eq!(wanted(true, 0), Some(0));
        assert_eq!(wanted(true, 3), Some(3));
    }

    #[test]
    fn wire_shape_matches_ollama() {
        let entries = vec![
            TokenLogprob {
                token: cand("Hi", -0.12),
                top: vec![cand("Hi", -0.12), cand("", -3.5)],
            },
            TokenLogprob {
                token: cand("!", -1.0),
                top: Vec::new(),
            },
        ];
        let mut chunk = json!({"response": "Hi!"});
        attach(&mut chunk, &entries);
        assert_eq!(
            chunk["logprobs"],
            json!([
                {"token": "Hi", "logprob": -0.12, "bytes": [72, 105],
                 "top_logprobs": [{"token": "Hi", "logprob": -0.12, "bytes": [72, 105]},
                                  {"token": "", "logprob": -3.5}]},
                {"token": "!", "logprob": -1.0, "bytes": [33]}
            ])
        );
        let mut none = json!({"response": ""});
        attach(&mut none, &[]);
        assert!(none.get("logprobs").is_none());
    }
}
