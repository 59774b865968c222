//! The server's lifecycle: loading pinned models, serving, then draining
//! after SIGTERM.
//!
//! While pinned models (`--preload`) are loading, `/ready` answers 503
//! `loading` but requests are served (a client that asks directly waits
//! for the model like any other). While draining, `/ready` answers 503
//! (so load balancers stop sending work), new API requests get 503
//! `server is shutting down`, and requests already running — streams
//! included — go on until they finish or the shutdown deadline passes.
//! A request counts as running until its response body has been sent or
//! dropped, which is why the count is held by the body ([`GuardedBody`])
//! rather than by the handler.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::Notify;

use crate::error::ApiError;

/// Routes that keep answering while draining.
const OPS_ROUTES: &[&str] = &["/health", "/ready", "/metrics"];

/// Draining flag and in-flight request count.
#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
    /// Pinned models not loaded yet.
    loading: AtomicUsize,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// What `/ready` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Pinned models are still loading.
    Loading,
    /// Shutting down: finishing requests in flight.
    Draining,
}

impl Readiness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Loading => "loading",
            Self::Draining => "draining",
        }
    }
}

impl Lifecycle {
    /// Whether the server takes new work (`/ready` is 200).
    pub fn is_ready(&self) -> bool {
        self.readiness() == Readiness::Ready
    }

    /// Whether the server is shutting down; new API requests are refused.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Ready, loading pinned models, or draining (which wins).
    pub fn readiness(&self) -> Readiness {
        if self.is_draining() {
            Readiness::Draining
        } else if self.loading.load(Ordering::SeqCst) > 0 {
            Readiness::Loading
        } else {
            Readiness::Ready
        }
    }

    /// `n` more pinned models to load before the server is ready.
    pub fn add_loading(&self, n: usize) {
        self.loading.fetch_add(n, Ordering::SeqCst);
    }

    /// One pinned model is loaded.
    pub fn loaded_one(&self) {
        let _ = self
            .loading
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// Stops taking new work.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Requests being served now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until no request is in flight, or `deadline` passes; `true`
    /// if everything finished.
    pub async fn wait_idle(&self, deadline: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.in_flight() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(deadline, wait).await.is_ok()
    }

    fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }
}

/// One in-flight request; dropping it may wake [`Lifecycle::wait_idle`].
#[derive(Debug)]
struct InFlight(Arc<Lifecycle>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Middleware: refuses new work while draining and counts requests in
/// flight until their bodies end.
pub async fn gate(State(life): State<Arc<Lifecycle>>, req: Request, next: Next) -> Response {
    if OPS_ROUTES.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    if life.is_draining() {
        let mut response =
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down")
                .into_response();
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let guard = life.enter();
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    Response::from_parts(
        parts,
        Body::new(GuardedBody {
            inner: body,
            _guard: guard,
        }),
    )
}

/// A body that holds an [`InFlight`] until it ends or is dropped.
struct GuardedBody {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_idle_returns_when_the_last_request_ends() {
        let life = Arc::new(Lifecycle::default());
        assert!(life.wait_idle(Duration::from_millis(10)).await);
        let guard = life.enter();
        assert!(!life.wait_idle(Duration::from_millis(20)).await);
        let waiter = {
            let life = life.clone();
            tokio::spawn(async move { life.wait_idle(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(guard);
        assert!(waiter.await.unwrap());
        assert!(life.is_ready());
        life.start_draining();
        assert!(!life.is_ready());
    }

    #[test]
    fn loading_pinned_models_is_not_ready_and_draining_wins() {
        let life = Lifecycle::default();
        life.add_loading(2);
        assert_eq!(life.readiness(), Readiness::Loading);
        life.loaded_one();
        assert_eq!(life.readiness(), Readiness::Loading);
        life.loaded_one();
        life.loaded_one(); // never below zero
        assert_eq!(life.readiness(), Readiness::Ready);
        life.add_loading(1);
        life.start_draining();
        assert_eq!(life.readiness(), Readiness::Draining);
    }
}
