//! Request ids and the per-request tracing span.
//!
//! Every request gets an id — the caller's `X-Request-Id` when it is short
//! and printable, else a fresh one — that is echoed in the response and
//! recorded on a `request` span, so every log line a request causes (runner
//! output included) can be tied to it. Headers are never logged: they may
//! carry API keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The header that carries the id both ways.
pub const HEADER: &str = "x-request-id";

/// Middleware: assigns the id, runs the request inside its span and logs
/// one line when the response headers go out.
pub async fn trace(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable(v))
        .map_or_else(fresh, str::to_string);
    let value = HeaderValue::from_str(&id).expect("ids are printable ASCII");
    req.headers_mut().insert(HEADER, value.clone());
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request"
        );
    });
    response.headers_mut().insert(HEADER, value);
    response
}

fn is_acceptable(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A process-unique id: a per-process random prefix and a counter.
fn fresh() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 4];
        let _ = getrandom::getrandom(&mut bytes);
        hex::encode(bytes)
    });
    format!("{prefix}-{:06}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(is_acceptable("abc-123_x.y"));
        assert!(!is_acceptable("has space"));
        assert!(!is_acceptable(&"x".repeat(65)));
        let (a, b) = (fresh(), fresh());
        assert_ne!(a, b);
        assert!(is_acceptable(&a));
    }
}
