//! A strict parser for server-sent event streams, as the OpenAI- and
//! Anthropic-compatible routes write them: every event is `data: <json>`
//! (optionally after one `event: <name>` line) and ends with a blank line;
//! anything else — an NDJSON line, a comment, a split event, a missing
//! final blank line — fails the test.

use serde_json::Value;

/// One parsed event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The `event:` name, if the event had one.
    pub name: Option<String>,
    /// The `data:` payload; `Value::String("[DONE]")` for OpenAI's sentinel.
    pub data: Value,
}

impl Event {
    pub fn is_done(&self) -> bool {
        self.data == Value::String("[DONE]".into())
    }
}

/// Parses a whole stream body, panicking on anything malformed.
pub fn parse(body: &str) -> Vec<Event> {
    assert!(
        body.ends_with("\n\n"),
        "stream does not end with a blank line: {body:?}"
    );
    let blocks: Vec<&str> = body[..body.len() - 2].split("\n\n").collect();
    blocks.iter().map(|b| event(b)).collect()
}

fn event(block: &str) -> Event {
    let lines: Vec<&str> = block.split('\n').collect();
    let (name, data) = match lines.as_slice() {
        [data] => (None, *data),
        [name, data] => {
            let name = name
                .strip_prefix("event: ")
                .unwrap_or_else(|| panic!("bad event line {name:?} in {block:?}"));
            (Some(name.to_string()), *data)
        }
        _ => panic!("event is not `[event:] data:` lines: {block:?}"),
    };
    let payload = data
        .strip_prefix("data: ")
        .unwrap_or_else(|| panic!("not a data line: {data:?}"));
    let data = if payload == "[DONE]" {
        Value::String(payload.into())
    } else {
        let v: Value = serde_json::from_str(payload)
            .unwrap_or_else(|e| panic!("data is not JSON ({e}): {payload:?}"));
        assert!(v.is_object(), "data is not an object: {payload}");
        v
    };
    Event { name, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_named_and_plain_events() {
        let events =
            parse("event: ping\ndata: {\"type\":\"ping\"}\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n");
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].name.as_deref(), Some("ping"));
        assert_eq!(events[1].data["a"], 1);
        assert!(events[2].is_done());
    }

    #[test]
    #[should_panic(expected = "not a data line")]
    fn refuses_ndjson() {
        parse("{\"a\":1}\n\n");
    }

    #[test]
    #[should_panic(expected = "blank line")]
    fn refuses_a_truncated_stream() {
        parse("data: {\"a\":1}\n");
    }
}
