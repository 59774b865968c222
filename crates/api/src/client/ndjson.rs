//! NDJSON framing: splitting a byte stream into lines and decoding each
//! line, turning an `{"error": ...}` line into an error.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ApiError;

/// Accumulates body chunks and hands out complete lines. A JSON object may
/// arrive split across any number of chunks, and one chunk may hold many
/// objects, so lines are cut only at `\n`.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    buf: Vec<u8>,
    /// Start of the first unconsumed byte.
    start: usize,
    /// How far `buf` has been searched for `\n`, so a long line arriving in
    /// many small chunks is scanned once, not once per chunk.
    scanned: usize,
}

impl LineBuffer {
    /// Append a chunk of the body.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete line without its `\n` (or `\r\n`), if any.
    pub(crate) fn next_line(&mut self) -> Option<Vec<u8>> {
        let offset = self.buf[self.scanned..].iter().position(|&b| b == b'\n');
        let Some(offset) = offset else {
            self.scanned = self.buf.len();
            return None;
        };
        let end = self.scanned + offset;
        let line = trim_cr(&self.buf[self.start..end]).to_vec();
        self.start = end + 1;
        self.scanned = self.start;
        Some(line)
    }

    /// What is left after the body ended: a final line without a newline.
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = trim_cr(&self.buf[self.start..]).to_vec();
        self.start = self.buf.len();
        self.scanned = self.start;
        (!is_blank(&rest)).then_some(rest)
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// True for a line with nothing but whitespace (skipped, not decoded).
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Decode one line. A line with a non-empty `error` string is the server
/// reporting a failure after the 200 header went out; it becomes an error
/// without a status, as in Ollama's clients.
pub(crate) fn decode_line<T: DeserializeOwned>(line: &[u8]) -> Result<T, ApiError> {
    // A line that is not JSON at all is most likely a plain-text error.
    let value: Value = serde_json::from_slice(line)
        .map_err(|_| ApiError::message(String::from_utf8_lossy(line).trim().to_string()))?;
    if let Some(message) = value.get("error").and_then(Value::as_str) {
        if !message.is_empty() {
            return Err(ApiError::message(message));
        }
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::message(format!("invalid response from server: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GenerateResponse;

    fn drain(lines: &mut LineBuffer) -> Vec<String> {
        std::iter::from_fn(|| lines.next_line())
            .map(|l| String::from_utf8(l).unwrap())
            .collect()
    }

    #[test]
    fn joins_lines_split_across_chunks() {
        let mut lines = LineBuffer::default();
        lines.push(b"{\"a\":");
        assert!(drain(&mut lines).is_empty());
        lines.push(b"1}\n{\"b\"");
        assert_eq!(drain(&mut lines), ["{\"a\":1}"]);
        lines.push(b":2}\r\n\n{\"c\":3}\n{\"d\"");
        assert_eq!(drain(&mut lines), ["{\"b\":2}", "", "{\"c\":3}"]);
        lines.push(b":4}");
        assert!(drain(&mut lines).is_empty());
        assert_eq!(lines.finish().unwrap(), b"{\"d\":4}");
        assert!(lines.finish().is_none());
    }

    #[test]
    fn byte_at_a_time() {
        let body = b"{\"x\":1}\n{\"y\":2}\n";
        let mut lines = LineBuffer::default();
        let mut got = Vec::new();
        for b in body {
            lines.push(std::slice::from_ref(b));
            got.extend(drain(&mut lines));
        }
        assert_eq!(got, ["{\"x\":1}", "{\"y\":2}"]);
        assert!(lines.finish().is_none());
    }

    #[test]
    fn blank_tail_is_not_a_line() {
        let mut lines = LineBuffer::default();
        lines.push(b"{}\n  \r");
        assert_eq!(drain(&mut lines), ["{}"]);
        assert!(lines.finish().is_none());
    }

    #[test]
    fn decodes_chunks_and_errors() {
        let ok: GenerateResponse =
            decode_line(br#"{"model":"m","created_at":"t","response":"hi","done":false}"#).unwrap();
        assert_eq!(ok.response, "hi");
        let err = decode_line::<GenerateResponse>(br#"{"error":"boom"}"#).unwrap_err();
        assert_eq!(err, ApiError::message("boom"));
        let err = decode_line::<GenerateResponse>(b"not json").unwrap_err();
        assert_eq!(err.message, "not json");
        let err = decode_line::<GenerateResponse>(br#"{"done":"yes"}"#).unwrap_err();
        assert!(err.message.starts_with("invalid response from server: "));
        // An empty error field is not an error.
        let ok: GenerateResponse = decode_line(br#"{"error":"","done":true}"#).unwrap();
        assert!(ok.done);
    }
}
