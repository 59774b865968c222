//! CORS with an exact allow-list, and the cross-site request guard.
//!
//! Browsers attach `Origin` to cross-origin requests. An origin that is not
//! on the list gets 403 with an empty body *before* any handler runs, which
//! also stops "simple" cross-site POSTs (`text/plain` bodies that skip the
//! preflight) from having side effects. Allowed origins get the exact origin
//! echoed back — never a reflected wildcard, never `Allow-Credentials`.
//! Preflights are answered as Ollama answers them (`ollama-api.md` §0.3).
//!
//! The list: `HEARTH_ORIGINS` entries, then Ollama's local origins
//! (`http(s)://localhost`, `127.0.0.1`, `0.0.0.0`, `[::1]`, any port) and the
//! Tauri webview origins. Unlike Ollama's prefix match, `http://localhost:*`
//! here means "that host with any numeric port", so
//! `http://localhost.attacker.example` does not pass.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, HOST, ORIGIN, VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const ALLOW_METHODS: &str = "GET,POST,PUT,PATCH,DELETE,HEAD";
const ALLOW_HEADERS: &str = "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,\
Openai-Beta,X-Stainless-Arch,X-Stainless-Async,X-Stainless-Custom-Poll-Interval,\
X-Stainless-Helper-Method,X-Stainless-Lang,X-Stainless-Os,X-Stainless-Package-Version,\
X-Stainless-Poll-Helper,X-Stainless-Retry-Count,X-Stainless-Runtime,\
X-Stainless-Runtime-Version,X-Stainless-Timeout";
const MAX_AGE: &str = "43200";

/// Origins always allowed: local pages and the desktop app's webview.
const DEFAULT_ORIGINS: &[&str] = &[
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
    "http://0.0.0.0:*",
    "https://0.0.0.0:*",
    "http://[::1]:*",
    "https://[::1]:*",
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// `*`: every origin (answered with `Access-Control-Allow-Origin: *`).
    Any,
    /// An exact origin such as `https://app.example`.
    Exact(String),
    /// `scheme://host:*`: that host with or without any numeric port.
    AnyPort(String),
    /// `scheme://*`: every origin of a scheme, e.g. `vscode-webview://*`.
    AnyOfScheme(String),
}

impl Pattern {
    fn parse(entry: &str) -> Option<Pattern> {
        let entry = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        if entry == "*" {
            return Some(Pattern::Any);
        }
        let (scheme, rest) = entry.split_once("://")?;
        if rest == "*" {
            return Some(Pattern::AnyOfScheme(format!("{scheme}://")));
        }
        if let Some(base) = entry.strip_suffix(":*") {
            return (!base.contains('*')).then(|| Pattern::AnyPort(base.to_string()));
        }
        (!entry.contains('*')).then_some(Pattern::Exact(entry))
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(o) => o == origin,
            Pattern::AnyOfScheme(prefix) => origin.starts_with(prefix.as_str()),
            Pattern::AnyPort(base) => origin.strip_prefix(base.as_str()).is_some_and(|rest| {
                rest.is_empty()
                    || rest
                        .strip_prefix(':')
                        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            }),
        }
    }
}

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone)]
pub struct OriginList {
    patterns: Vec<Pattern>,
}

impl Default for OriginList {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl OriginList {
    /// `extra` (from `HEARTH_ORIGINS`) followed by the defaults. Entries
    /// that are not origins are logged and skipped rather than crashing
    /// the server at startup as Ollama does.
    pub fn new(extra: &[String]) -> Self {
        let mut patterns = Vec::new();
        for entry in extra.iter().filter(|e| !e.trim().is_empty()) {
            match Pattern::parse(entry) {
                Some(p) => patterns.push(p),
                None => tracing::warn!(origin = %entry, "ignoring invalid HEARTH_ORIGINS entry"),
            }
        }
        patterns.extend(DEFAULT_ORIGINS.iter().filter_map(|o| Pattern::parse(o)));
        Self { patterns }
    }

    /// Whether `origin` (as the browser sent it) may call us.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        self.patterns.iter().any(|p| p.matches(&origin))
    }

    fn allows_any(&self) -> bool {
        self.patterns.first() == Some(&Pattern::Any)
    }
}

/// Middleware: 403 for a foreign origin (or a cross-site request without
/// one), 204 for an allowed preflight, and `Access-Control-Allow-Origin` on
/// allowed cross-origin responses.
pub async fn check(State(list): State<OriginList>, req: Request, next: Next) -> Response {
    let Some(origin) = origin_of(&req) else {
        if is_cross_site_write(&req) {
            return StatusCode::FORBIDDEN.into_response();
        }
        return next.run(req).await;
    };
    if is_same_origin(&req, &origin) {
        return next.run(req).await;
    }
    if !list.allows(&origin) {
        tracing::warn!(%origin, "rejected request from a foreign origin");
        return StatusCode::FORBIDDEN.into_response();
    }
    let allow = if list.allows_any() {
        HeaderValue::from_static("*")
    } else {
        HeaderValue::from_str(&origin).unwrap_or(HeaderValue::from_static("null"))
    };
    if req.method() == Method::OPTIONS && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight(allow);
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    headers.append(VARY, HeaderValue::from_static("Origin"));
    response
}

fn preflight(allow: HeaderValue) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    for v in [
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
    ] {
        h.append(VARY, HeaderValue::from_static(v));
    }
    response
}

/// The `Origin` header; an unreadable one counts as `null` (never allowed).
fn origin_of(req: &Request) -> Option<String> {
    let v = req.headers().get(ORIGIN)?;
    Some(v.to_str().unwrap_or("null").to_string())
}

/// `Origin: http://<Host>`: a page served by this server itself.
fn is_same_origin(req: &Request, origin: &str) -> bool {
    let Some(host) = req.headers().get(HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin = origin.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// A state-changing request a browser marked cross-site but sent without
/// `Origin` (old browsers, some redirects): refused as CSRF.
fn is_cross_site_write(req: &Request) -> bool {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    !safe && cross_site
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_allow_local_pages_and_tauri() {
        let list = OriginList::default();
        for o in [
            "http://localhost",
            "http://localhost:3000",
            "https://127.0.0.1:8443",
            "http://[::1]:5173",
            "tauri://localhost",
            "http://tauri.localhost",
        ] {
            assert!(list.allows(o), "{o}");
        }
    }

    #[test]
    fn defaults_refuse_foreign_and_lookalike_origins() {
        let list = OriginList::default();
        for o in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://localhost:3000.evil.example",
            "http://localhost:",
            "null",
            "file://",
            "app://x",
            "vscode-webview://abc",
        ] {
            assert!(!list.allows(o), "{o}");
        }
    }

    #[test]
    fn configured_entries() {
        let list = OriginList::new(&[
            "https://App.Example/".into(),
            "vscode-webview://*".into(),
            "http://lan-box:*".into(),
            "not an origin".into(),
        ]);
        assert!(list.allows("https://app.example"));
        assert!(!list.allows("https://app.example.evil"));
        assert!(list.allows("vscode-webview://1234"));
        assert!(list.allows("http://lan-box:8080"));
        assert!(!list.allows_any());
        assert!(OriginList::new(&["*".into()]).allows_any());
    }
}
