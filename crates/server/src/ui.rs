//! The web UI at `/ui/`: the files of `ui/dist`, embedded at build time by
//! `build.rs`.
//!
//! Hashed files under `assets/` never change, so they are cached for a
//! year (`immutable`); `index.html` and the other files are revalidated on
//! every load (`no-cache`) so a new build shows at once. Every answer has
//! a strict Content-Security-Policy: only this origin's scripts, styles,
//! images and API, no inline code, and no framing except by the desktop
//! app's own window (which shows the UI in a frame under its status bar;
//! `X-Frame-Options` cannot name such an origin, so the CSP alone decides,
//! as every current browser engine does when both are sent). The files are public (the
//! UI asks for an API key itself when keys are on); the `Host` check and
//! CORS still apply to them.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// Only this origin; no inline scripts or styles (the build has none), no
/// plugins, no form posts elsewhere, no framing but by the desktop app's
/// webview (`tauri://localhost` on Linux and macOS, `http(s)://tauri.localhost`
/// on Windows).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; \
    frame-ancestors 'self' tauri://localhost http://tauri.localhost https://tauri.localhost";

/// Served when the binary was built without `ui/dist`.
const FALLBACK: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Hearth</title></head><body><h1>Hearth</h1><p>This build has no web UI. \
Build it with <code>make build</code> (or <code>npm ci &amp;&amp; npm run build</code> \
in <code>ui/</code>, then <code>cargo build</code>).</p></body></html>";

/// `/ui`, `/ui/` and `/ui/{*path}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui", get(redirect))
        .route("/ui/", get(index))
        .route("/ui/{*path}", get(file))
}

async fn redirect() -> Response {
    (StatusCode::PERMANENT_REDIRECT, [(LOCATION, "/ui/")]).into_response()
}

async fn index() -> Response {
    match find("index.html") {
        Some(body) => respond("index.html", body),
        None => respond("index.html", FALLBACK.as_bytes()),
    }
}

async fn file(Path(path): Path<String>) -> Response {
    match find(&path) {
        Some(body) => respond(&path, body),
        None => (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, "text/plain")],
            "404 page not found",
        )
            .into_response(),
    }
}

fn find(path: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

fn respond(path: &str, body: &'static [u8]) -> Response {
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = (
        [(CONTENT_TYPE, content_type(path)), (CACHE_CONTROL, cache)],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            content_type("assets/index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("x"), "application/octet-stream");
    }

    #[test]
    fn caching() {
        let r = respond("assets/a-1234.js", b"x");
        assert_eq!(
            r.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        assert_eq!(
            respond("index.html", b"x").headers()[CACHE_CONTROL],
            "no-cache"
        );
    }
}
