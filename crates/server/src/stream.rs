//! Streaming responses: NDJSON lines fed from a per-request channel.
//!
//! A handler spawns the work, which sends JSON values into a channel; the
//! response body drains it. An error after the first byte cannot change the
//! status any more, so it travels as one last `{"error": "..."}` line. When
//! the client goes away the body is dropped, the channel closes, and the
//! producer sees its sends fail and stops (cancelling the generation).

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The sending half handed to producers.
#[derive(Clone)]
pub struct LineSender(mpsc::Sender<Bytes>);

impl LineSender {
    /// Sends one value as a line. `false` means the client is gone.
    pub async fn send<T: Serialize>(&self, value: &T) -> bool {
        let mut line = serde_json::to_vec(value).expect("response types serialize");
        line.push(b'\n');
        self.0.send(Bytes::from(line)).await.is_ok()
    }

    /// Resolves once the client is gone (the response body was dropped),
    /// so producers that may go quiet for a while still notice.
    pub async fn closed(&self) {
        self.0.closed().await
    }

    /// Sends a final error line.
    pub async fn error(&self, message: &str) {
        let _ = self.send(&serde_json::json!({ "error": message })).await;
    }
}

/// A channel and the NDJSON response that drains it.
pub fn ndjson() -> (LineSender, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<_, std::convert::Infallible>));
    let response = ([(CONTENT_TYPE, "application/x-ndjson")], body).into_response();
    (LineSender(tx), response)
}
