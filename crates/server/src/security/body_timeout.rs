//! The request-body idle timeout (`HEARTH_BODY_TIMEOUT`): a client that
//! stops sending its body — or trickles it a byte now and then to hold a
//! connection and a handler — is answered `408` and disconnected.
//!
//! The clock measures only the time the server waits for the *next* chunk
//! while it is reading, never the whole upload: a multi-gigabyte blob that
//! keeps arriving is never cut off, and a handler that pauses between reads
//! (back-pressure from a slow disk) is not counted against the client.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::ApiError;

/// Default idle time allowed between two chunks of a request body.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The error a timed-out body yields to whoever reads it.
#[derive(Debug, thiserror::Error)]
#[error("request body timed out")]
pub struct BodyTimedOut;

/// A body that fails with [`BodyTimedOut`] when the next chunk takes longer
/// than `idle` to arrive, and records that it did in `fired`.
struct IdleTimeoutBody {
    inner: Body,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    /// Whether the timer was armed for the current wait (it is re-armed
    /// after every chunk, so the deadline is per wait, not per body).
    waiting: bool,
    fired: Arc<AtomicBool>,
}

impl IdleTimeoutBody {
    fn new(inner: Body, idle: Duration, fired: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            waiting: false,
            fired,
        }
    }
}

impl http_body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.waiting = false;
            return Poll::Ready(frame);
        }
        if !this.waiting {
            this.waiting = true;
            this.sleep.as_mut().reset(Instant::now() + this.idle);
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.fired.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: wraps the request body in the idle timeout. Whatever the
/// handler made of the failed read (400, 413, a half-written blob), the
/// client gets `408`; the body was never read to its end, so
/// `unread_body` closes the connection and the slow upload cannot go on.
pub async fn limit(State(idle): State<Duration>, req: Request, next: Next) -> Response {
    let fired = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| Body::new(IdleTimeoutBody::new(body, idle, fired.clone())));
    let response = next.run(req).await;
    if !fired.load(Ordering::Relaxed) {
        return response;
    }
    tracing::warn!(timeout = ?idle, "request body timed out");
    ApiError::new(StatusCode::REQUEST_TIMEOUT, "request body timed out").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    /// A body fed by hand, one chunk per send.
    fn channel_body() -> (tokio::sync::mpsc::Sender<Bytes>, Body) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        let stream =
            tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok::<_, std::convert::Infallible>);
        (tx, Body::from_stream(stream))
    }

    /// Reads every chunk of `body`, or its first error.
    async fn collect(body: Body) -> Result<Vec<u8>, axum::Error> {
        let mut out = Vec::new();
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_keeps_coming_is_never_cut_off() {
        let (tx, body) = channel_body();
        let fired = Arc::new(AtomicBool::new(false));
        let body = Body::new(IdleTimeoutBody::new(
            body,
            Duration::from_secs(1),
            fired.clone(),
        ));
        let feeder = tokio::spawn(async move {
            // Ten seconds in all, never more than 0.9 s between chunks.
            for _ in 0..11 {
                tx.send(Bytes::from_static(b"ab")).await.unwrap();
                tokio::time::sleep(Duration::from_millis(900)).await;
            }
        });
        assert_eq!(collect(body).await.unwrap().len(), 22);
        feeder.await.unwrap();
        assert!(!fired.load(Ordering::Relaxed));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_idle_time() {
        let (tx, body) = channel_body();
        let fired = Arc::new(AtomicBool::new(false));
        let body = Body::new(IdleTimeoutBody::new(
            body,
            Duration::from_secs(1),
            fired.clone(),
        ));
        tx.send(Bytes::from_static(b"ab")).await.unwrap();
        let started = Instant::now();
        let err = collect(body).await.unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(1) && waited < Duration::from_secs(2));
        assert!(fired.load(Ordering::Relaxed));
        drop(tx);
    }
}
