//! `Connection: close` on every answer given before its request body was
//! read to the end.
//!
//! Many answers come before the body is read: an unknown key (401), a
//! foreign `Host` (403), the rate limit (429), a blob the store already has
//! (200), a stalled upload (408). The unread rest of the body makes the
//! connection unusable for another request, so hyper closes it after the
//! answer; a client that pools connections (httpx, Go, reqwest) may have
//! sent its next request on it already and then sees the server hang up.
//! Saying `Connection: close` in the answer tells it not to reuse the
//! connection — what Go's own server does for large unread bodies.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// The middleware: tracks the body, marks the answer if it stayed unread.
pub async fn close_if_unread(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if http_body::Body::is_end_stream(&body) {
        // No body (GET, HEAD, `Content-Length: 0`): nothing can be left.
        return next.run(Request::from_parts(parts, body)).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let body = Body::new(Tracked {
        inner: body,
        read: read.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that records when it has been read to its end.
struct Tracked {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        // The end is either the final `None` or a frame after which the
        // body knows it is empty (a reader that stops at Content-Length).
        let ended = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            _ => false,
        };
        if ended {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
