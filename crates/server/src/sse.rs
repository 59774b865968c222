//! Server-sent events for the OpenAI- and Anthropic-compatible routes:
//! `data:` frames (optionally named with `event:`) fed from a per-request
//! channel, as [`crate::stream`] does for NDJSON.
//!
//! Every frame is one complete `…\n\n` write, so a client never sees half
//! an event. When the client goes away the body is dropped, sends fail, and
//! the producer stops (dropping its generation cancels it).

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The sending half handed to producers.
pub struct SseSender(mpsc::Sender<Bytes>);

impl SseSender {
    /// Sends `data: <json>`. `false` means the client is gone.
    pub async fn data<T: Serialize>(&self, value: &T) -> bool {
        self.frame(None, &json(value)).await
    }

    /// Sends `event: <name>` with `data: <json>`.
    pub async fn event<T: Serialize>(&self, name: &str, value: &T) -> bool {
        self.frame(Some(name), &json(value)).await
    }

    /// Sends OpenAI's end-of-stream sentinel, `data: [DONE]`.
    pub async fn done(&self) -> bool {
        self.frame(None, "[DONE]").await
    }

    async fn frame(&self, event: Option<&str>, data: &str) -> bool {
        let mut out = String::with_capacity(data.len() + 32);
        if let Some(name) = event {
            out.push_str("event: ");
            out.push_str(name);
            out.push('\n');
        }
        out.push_str("data: ");
        out.push_str(data);
        out.push_str("\n\n");
        self.0.send(Bytes::from(out)).await.is_ok()
    }
}

/// Compact JSON never contains a raw newline (newlines in strings are
/// escaped), so one `data:` line always holds the whole value.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("response types serialize")
}

/// A channel and the `text/event-stream` response that drains it.
pub fn channel() -> (SseSender, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<_, std::convert::Infallible>));
    let response = (
        [
            (CONTENT_TYPE, "text/event-stream"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response();
    (SseSender(tx), response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_are_complete_events() {
        let (tx, response) = channel();
        assert!(tx.event("ping", &serde_json::json!({"type": "ping"})).await);
        assert!(tx.data(&serde_json::json!({"a": "x\ny"})).await);
        assert!(tx.done().await);
        drop(tx);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "event: ping\ndata: {\"type\":\"ping\"}\n\ndata: {\"a\":\"x\\ny\"}\n\ndata: [DONE]\n\n"
        );
    }
}
