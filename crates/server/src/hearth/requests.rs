//! The recent request log behind `GET /hearth/requests`: a middleware
//! keeps the last [`CAPACITY`] API requests (method, path without query,
//! status, time to the response head, request id) in memory. Nothing of
//! the request body or headers is kept. The UI's own files are not logged.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use hearth_api::hearth::{RequestLog, RequestLogEntry};

/// Requests kept.
pub const CAPACITY: usize = 200;

static LOG: Mutex<VecDeque<RequestLogEntry>> = Mutex::new(VecDeque::new());

/// Middleware: records each finished request head.
pub async fn record(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path == "/ui" || path.starts_with("/ui/") {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    // Set by `request_id::trace`, which runs outside this layer.
    let request_id = req
        .headers()
        .get(crate::request_id::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let entry = RequestLogEntry {
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        method,
        path,
        status: response.status().as_u16(),
        duration_ms: (start.elapsed().as_secs_f64() * 1e3 * 10.0).round() / 10.0,
        request_id,
    };
    let mut log = LOG.lock().expect("request log lock");
    if log.len() == CAPACITY {
        log.pop_back();
    }
    log.push_front(entry);
    response
}

/// Newest first.
pub async fn list() -> Json<RequestLog> {
    let log = LOG.lock().expect("request log lock");
    Json(RequestLog {
        requests: log.iter().cloned().collect(),
    })
}
