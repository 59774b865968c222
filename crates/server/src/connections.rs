//! The HTTP/1.1 accept loop, with the timeouts `axum::serve` cannot set,
//! and graceful shutdown.
//!
//! hyper's `header_read_timeout` only works when a timer is installed, which
//! axum 0.8's `serve` does not do, so a client could hold a connection open
//! forever by sending its headers a byte at a time (slowloris). Here every
//! connection gets a timer: the request head — and, on a new or idle
//! keep-alive connection, the first byte of it — must arrive within
//! `HEARTH_HEADER_TIMEOUT`. Open connections are capped too.
//!
//! Shutdown: when `shutdown` resolves the server starts draining (see
//! [`crate::lifecycle`]) but keeps accepting, so `/ready` can say 503 and
//! late requests get a clear answer; once in-flight requests have finished
//! or `HEARTH_SHUTDOWN_TIMEOUT` has passed, the listener closes, open
//! connections are closed, and every runner is stopped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

use crate::AppState;

/// How long connections get to close once draining is over.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` resolves and the drain ends.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let settings = state.security.clone();
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut drained: std::pin::Pin<Box<dyn Future<Output = bool> + Send>> =
        Box::pin(std::future::pending());
    let mut draining = false;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, "connection limit reached, closing the new connection");
                        continue;
                    };
                    spawn_connection(&graceful, stream, peer, app.clone(), settings.header_timeout, slot);
                }
                // Out of file descriptors and the like: back off a moment.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown, if !draining => {
                draining = true;
                tracing::info!(in_flight = state.lifecycle.in_flight(), "draining: finishing requests in flight");
                state.lifecycle.start_draining();
                let life = state.lifecycle.clone();
                let deadline = settings.shutdown_timeout;
                drained = Box::pin(async move { life.wait_idle(deadline).await });
            },
            finished = &mut drained => {
                if !finished {
                    tracing::warn!(in_flight = state.lifecycle.in_flight(), "shutdown deadline passed, cancelling requests in flight");
                }
                break;
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(CLOSE_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("some connections did not close in time");
    }
    state.scheduler.shutdown();
    tracing::info!("stopped");
    Ok(())
}

/// Serves one HTTP/1.1 connection with the header timeout, on its own task,
/// with the peer address available to handlers as `ConnectInfo`.
fn spawn_connection(
    graceful: &GracefulShutdown,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    header_timeout: Duration,
    slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        // Router is always ready; `call` without `poll_ready` is fine.
        async move { app.call(req).await }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(%peer, "connection closed: {e}");
        }
        drop(slot);
    });
}
