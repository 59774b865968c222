//! Request limits: a token-bucket rate limit per key (or per client IP when
//! no key is used), and caps on the generation options a caller can use to
//! make one request expensive (stop-sequence count and length,
//! `num_predict`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::{Caller, PUBLIC_ROUTES};
use crate::error::ApiError;

/// Most stop sequences per request.
pub const MAX_STOP_SEQUENCES: usize = 16;
/// Longest stop sequence, in bytes.
pub const MAX_STOP_BYTES: usize = 256;
/// Default `num_predict` cap (`HEARTH_MAX_PREDICT`).
pub const DEFAULT_MAX_PREDICT: i64 = 32_768;

/// Buckets kept before idle, full ones are forgotten.
const MAX_BUCKETS: usize = 10_000;

/// A token bucket per caller: `per_minute` requests a minute, in bursts of
/// up to `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::default(),
        }
    }

    /// Takes one token for `who`; `Err(wait)` when the bucket is empty.
    pub fn take(&self, who: &str, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| refill(*b, now, per_sec, capacity).tokens < capacity);
        }
        let bucket = buckets.entry(who.to_string()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        *bucket = refill(*bucket, now, per_sec, capacity);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec))
        }
    }
}

fn refill(b: Bucket, now: Instant, per_sec: f64, capacity: f64) -> Bucket {
    let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
    Bucket {
        tokens: (b.tokens + elapsed * per_sec).min(capacity),
        updated: now,
    }
}

/// Middleware (route layer, inside auth): 429 with `Retry-After` when the
/// caller's bucket is empty.
pub async fn rate_limit(
    State(limiter): State<Arc<RateLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str());
    if route.is_some_and(|r| PUBLIC_ROUTES.contains(&r)) {
        return next.run(req).await;
    }
    let who = match (
        req.extensions().get::<Caller>(),
        req.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) {
        (Some(caller), _) => format!("key:{}", caller.key_name),
        (None, Some(ConnectInfo(addr))) => format!("ip:{}", addr.ip()),
        (None, None) => "unknown".to_string(),
    };
    if let Err(wait) = limiter.take(&who, Instant::now()) {
        tracing::warn!(caller = %who, "rate limit exceeded");
        let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded");
        let mut response = crate::error::response_for(route.unwrap_or(""), error);
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
        return response;
    }
    next.run(req).await
}

/// Caps on generation options.
#[derive(Debug, Clone, Copy)]
pub struct GenerationCaps {
    /// Largest `num_predict` accepted (`HEARTH_MAX_PREDICT`).
    pub max_predict: i64,
}

impl Default for GenerationCaps {
    fn default() -> Self {
        Self {
            max_predict: DEFAULT_MAX_PREDICT,
        }
    }
}

impl GenerationCaps {
    /// Checks `options.stop` and `options.num_predict` of a request body.
    /// Values of the wrong type are left for the handler, which reports
    /// them with Ollama's messages.
    pub fn check(&self, body: &Value) -> Result<(), ApiError> {
        let Some(options) = body.get("options").and_then(Value::as_object) else {
            return Ok(());
        };
        if let Some(stops) = options.get("stop").and_then(Value::as_array) {
            if stops.len() > MAX_STOP_SEQUENCES {
                return Err(ApiError::bad_request(format!(
                    "too many stop sequences: at most {MAX_STOP_SEQUENCES} are allowed"
                )));
            }
            if stops
                .iter()
                .filter_map(Value::as_str)
                .any(|s| s.len() > MAX_STOP_BYTES)
            {
                return Err(ApiError::bad_request(format!(
                    "stop sequence too long: at most {MAX_STOP_BYTES} bytes"
                )));
            }
        }
        match options.get("num_predict").and_then(Value::as_f64) {
            Some(n) if n < -2.0 => Err(ApiError::bad_request(
                "num_predict must be -1 (no limit), -2 (fill the context) or a positive number",
            )),
            Some(n) if n > self.max_predict as f64 => Err(ApiError::bad_request(format!(
                "num_predict must be at most {}",
                self.max_predict
            ))),
            _ => Ok(()),
        }
    }
}

/// Middleware (route layer) for generate and chat: reads the body (within
/// the JSON size limit), checks the caps, and hands the body on untouched.
pub async fn generation_caps(
    State(caps): State<GenerationCaps>,
    req: Request,
    next: Next,
) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str());
    if !matches!(route, Some("/api/generate" | "/api/chat")) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::body::MAX_JSON_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
                .into_response()
        }
    };
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        if let Err(e) = caps.check(&value) {
            return e.into_response();
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take("a", t0).is_ok());
        }
        let wait = limiter.take("a", t0).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
        assert!(limiter.take("b", t0).is_ok(), "buckets are per caller");
        assert!(limiter.take("a", t0 + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn caps_on_stop_and_num_predict() {
        let caps = GenerationCaps::default();
        assert!(caps
            .check(&json!({"options": {"stop": ["a"], "num_predict": 10}}))
            .is_ok());
        assert!(caps.check(&json!({"options": {"num_predict": -1}})).is_ok());
        assert!(caps
            .check(&json!({"options": {"stop": "wrong type"}}))
            .is_ok());
        let many: Vec<String> = (0..17).map(|i| i.to_string()).collect();
        assert!(caps.check(&json!({"options": {"stop": many}})).is_err());
        let long = "x".repeat(257);
        assert!(caps.check(&json!({"options": {"stop": [long]}})).is_err());
        assert!(caps
            .check(&json!({"options": {"num_predict": -3}}))
            .is_err());
        assert!(caps
            .check(&json!({"options": {"num_predict": 1e9}}))
            .is_err());
    }
}
