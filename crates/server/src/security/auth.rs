//! API-key authentication and scopes.
//!
//! With no key configured the API is open, as Ollama's is. Once a key
//! exists, every route except the public ones (`/`, `/health`, `/ready`,
//! the web UI's files under `/ui/`, and `/metrics` with
//! `HEARTH_PUBLIC_METRICS`) needs one, from `Authorization: Bearer <key>` or `x-api-key: <key>`
//! (Anthropic clients). Model management (create, copy, delete, pull, push,
//! blobs) needs an `admin` key. Keys never travel in query strings.
//!
//! The key file is re-read when it changes (checked by a `stat` per
//! request), so `hearth keys revoke` takes effect without a restart.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::keys::{KeyFile, Scope};
use crate::error::ApiError;

/// Routes anyone may call, even when keys are configured. The web UI's
/// files are public: the page asks for a key and sends it with its API
/// calls, which are checked like any others.
pub const PUBLIC_ROUTES: &[&str] = &["/", "/health", "/ready", "/ui", "/ui/", "/ui/{*path}"];

/// Routes that change the store and so need an `admin` key.
const ADMIN_ROUTES: &[&str] = &[
    "/api/create",
    "/api/copy",
    "/api/delete",
    "/api/pull",
    "/api/push",
    "/api/blobs/{digest}",
];

/// The authenticated caller, for rate limiting and logs.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_name: String,
}

/// The key file as last read, re-read when it changes on disk.
#[derive(Debug)]
pub struct KeyStore {
    path: Option<PathBuf>,
    /// When no key exists: `true` refuses everything instead of opening the
    /// API (a non-loopback bind whose keys were all revoked).
    fail_closed: bool,
    /// `/metrics` needs no key (`HEARTH_PUBLIC_METRICS`): for inference
    /// gateways whose metrics scrapers cannot send one.
    public_metrics: bool,
    cached: Mutex<(Option<Stamp>, Arc<KeyFile>)>,
}

/// What identifies one version of the file.
type Stamp = (SystemTime, u64);

impl KeyStore {
    /// A store backed by the file at `path`.
    pub fn open(path: PathBuf, fail_closed: bool) -> Result<Self, super::SecurityError> {
        let keys = KeyFile::load(&path)?;
        let stamp = stamp_of(&path);
        Ok(Self {
            path: Some(path),
            fail_closed,
            public_metrics: false,
            cached: Mutex::new((stamp, Arc::new(keys))),
        })
    }

    /// No keys, no file: the open Ollama-compatible default.
    pub fn disabled() -> Self {
        Self {
            path: None,
            fail_closed: false,
            public_metrics: false,
            cached: Mutex::new((None, Arc::default())),
        }
    }

    /// Lets anyone read `/metrics` even when keys exist.
    pub fn with_public_metrics(mut self, public: bool) -> Self {
        self.public_metrics = public;
        self
    }

    /// The keys now, re-reading the file if it changed. A file that cannot
    /// be read keeps the last good version (and logs why).
    pub fn current(&self) -> Arc<KeyFile> {
        let mut cached = self.cached.lock().expect("key cache lock");
        let Some(path) = &self.path else {
            return cached.1.clone();
        };
        let stamp = stamp_of(path);
        if stamp != cached.0 {
            match KeyFile::load(path) {
                Ok(keys) => *cached = (stamp, Arc::new(keys)),
                Err(e) => tracing::error!("keeping the previous API keys: {e}"),
            }
        }
        cached.1.clone()
    }
}

fn stamp_of(path: &std::path::Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Middleware (route layer): checks the key and its scope.
pub async fn check(State(store): State<Arc<KeyStore>>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    if PUBLIC_ROUTES.contains(&route.as_str()) || (store.public_metrics && route == "/metrics") {
        return next.run(req).await;
    }
    let keys = store.current();
    if keys.keys.is_empty() && !store.fail_closed {
        return next.run(req).await;
    }
    let Some(presented) = presented_key(&req) else {
        return unauthorized(&route, "unauthorized: an API key is required");
    };
    let Some(record) = keys.find(&presented) else {
        return unauthorized(&route, "unauthorized: invalid API key");
    };
    let required = required_scope(&route);
    if !record.scope.allows(required) {
        let message = format!(
            "forbidden: the API key '{}' has scope {}; this operation needs {}",
            record.name,
            record.scope.as_str(),
            required.as_str()
        );
        return crate::error::response_for(&route, ApiError::new(StatusCode::FORBIDDEN, message));
    }
    tracing::debug!(key = %record.name, "authenticated");
    req.extensions_mut().insert(Caller {
        key_name: record.name.clone(),
    });
    next.run(req).await
}

/// The scope a route needs.
pub fn required_scope(route: &str) -> Scope {
    // Hearth's own endpoints (settings, keys, hardware) are all admin.
    if ADMIN_ROUTES.contains(&route) || route.starts_with("/hearth/") {
        Scope::Admin
    } else {
        Scope::Inference
    }
}

/// `Authorization: Bearer <key>` (scheme case-insensitive, per RFC 7235) or
/// `x-api-key: <key>`.
fn presented_key(req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, key) = v.trim().split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty())
            .then(|| key.trim().to_string());
    }
    let key = headers.get("x-api-key")?.to_str().ok()?.trim();
    (!key.is_empty()).then(|| key.to_string())
}

fn unauthorized(route: &str, message: &str) -> Response {
    let mut response =
        crate::error::response_for(route, ApiError::new(StatusCode::UNAUTHORIZED, message));
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_routes_need_admin() {
        assert_eq!(required_scope("/api/create"), Scope::Admin);
        assert_eq!(required_scope("/api/blobs/{digest}"), Scope::Admin);
        assert_eq!(required_scope("/api/chat"), Scope::Inference);
        assert_eq!(required_scope("/metrics"), Scope::Inference);
        assert_eq!(required_scope("/hearth/keys"), Scope::Admin);
        assert_eq!(required_scope("/hearth/keys/{name}"), Scope::Admin);
    }

    #[test]
    fn key_headers() {
        let req = |name: &str, value: &str| {
            axum::http::Request::builder()
                .header(name, value)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert_eq!(
            presented_key(&req("authorization", "Bearer hth_x")).as_deref(),
            Some("hth_x")
        );
        assert_eq!(
            presented_key(&req("authorization", "bearer hth_x")).as_deref(),
            Some("hth_x")
        );
        assert_eq!(presented_key(&req("authorization", "Bearer ")), None);
        assert_eq!(presented_key(&req("authorization", "Basic abc")), None);
        assert_eq!(
            presented_key(&req("x-api-key", "hth_y")).as_deref(),
            Some("hth_y")
        );
    }
}
