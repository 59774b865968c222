//! Hardening settings and the middleware stack that enforces them: the
//! `Host` check (DNS rebinding), CORS, API keys, rate limits and request
//! caps. Settings are read once from `HEARTH_*` variables at startup;
//! [`layer`] puts the middleware on the router in the order that matters
//! (outermost first: host, CORS, then — on matched routes only — keys,
//! rate limit, generation caps).

pub mod auth;
pub mod body_timeout;
pub mod cors;
pub mod host;
pub mod keys;
pub mod limits;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::middleware::from_fn_with_state;
use axum::Router;

use crate::AppState;
pub use auth::KeyStore;
pub use cors::OriginList;
pub use host::HostAllowList;
pub use keys::{KeyFile, KeyRecord, Scope};
pub use limits::{GenerationCaps, RateLimiter};

/// Errors of the security setup and of the key file.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid key file: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error("a key named '{0}' already exists")]
    DuplicateKey(String),
    #[error("no key named '{0}'")]
    UnknownKey(String),
    #[error("invalid key name '{0}': use 1-64 letters, digits, '-', '_', '.' or '@'")]
    InvalidKeyName(String),
    #[error("invalid scope '{0}': use 'inference' or 'admin'")]
    InvalidScope(String),
    #[error("cannot generate a key: {0}")]
    Random(String),
    #[error(
        "refusing to listen on {addr} without an API key: anyone who can reach this address \
         could use and change your models. Add a key with `hearth keys add NAME`, bind to \
         127.0.0.1, or (at your own risk) start with `hearth serve --insecure-no-auth`"
    )]
    ExposedWithoutKeys { addr: String },
}

impl SecurityError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Every hardening setting of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hosts: HostAllowList,
    pub origins: OriginList,
    pub keys: Arc<KeyStore>,
    /// Requests per minute per key or client IP (`HEARTH_RATE_LIMIT`).
    pub rate_limit: Option<Arc<RateLimiter>>,
    pub caps: GenerationCaps,
    /// Time a client has to send a request's headers, and to send its
    /// first request on a new connection (`HEARTH_HEADER_TIMEOUT`).
    pub header_timeout: Duration,
    /// Longest wait for the next chunk of a request body
    /// (`HEARTH_BODY_TIMEOUT`); an idle timeout, not a total.
    pub body_timeout: Duration,
    /// Most open connections (`HEARTH_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// How long in-flight requests may run after SIGTERM
    /// (`HEARTH_SHUTDOWN_TIMEOUT`).
    pub shutdown_timeout: Duration,
}

impl Default for Settings {
    /// A loopback server with no keys: what unit tests of the router use.
    fn default() -> Self {
        Self {
            hosts: HostAllowList::new("127.0.0.1", &[]),
            origins: OriginList::default(),
            keys: Arc::new(KeyStore::disabled()),
            rate_limit: None,
            caps: GenerationCaps::default(),
            header_timeout: Duration::from_secs(10),
            body_timeout: body_timeout::DEFAULT_BODY_TIMEOUT,
            max_connections: 512,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl Settings {
    /// Reads the settings for a server bound to `bind` (`HEARTH_HOST`).
    /// Refuses a non-loopback bind without any API key unless
    /// `insecure_no_auth`.
    pub fn from_env(
        bind: &hearth_api::Host,
        insecure_no_auth: bool,
    ) -> Result<Self, SecurityError> {
        let key_path = KeyFile::default_path();
        let exposed = !is_loopback(&bind.host);
        let keys = KeyStore::open(key_path, exposed && !insecure_no_auth)?
            .with_public_metrics(hearth_api::env::flag("HEARTH_PUBLIC_METRICS"));
        if exposed && keys.current().keys.is_empty() {
            if !insecure_no_auth {
                return Err(SecurityError::ExposedWithoutKeys {
                    addr: bind.bind_addr(),
                });
            }
            warn_insecure(&bind.bind_addr());
        }
        let defaults = Self::default();
        Ok(Self {
            hosts: HostAllowList::new(&bind.host, &list_var("HEARTH_ALLOWED_HOSTS")),
            origins: OriginList::new(&list_var("HEARTH_ORIGINS")),
            keys: Arc::new(keys),
            rate_limit: num_var("HEARTH_RATE_LIMIT")
                .filter(|&n| n > 0)
                .map(|n| Arc::new(RateLimiter::new(n.min(u64::from(u32::MAX)) as u32))),
            caps: GenerationCaps {
                max_predict: num_var("HEARTH_MAX_PREDICT")
                    .map_or(defaults.caps.max_predict, |n| n.min(i64::MAX as u64) as i64),
            },
            header_timeout: duration_var("HEARTH_HEADER_TIMEOUT")
                .filter(|d| !d.is_zero())
                .unwrap_or(defaults.header_timeout),
            body_timeout: duration_var("HEARTH_BODY_TIMEOUT")
                .filter(|d| !d.is_zero())
                .unwrap_or(defaults.body_timeout),
            max_connections: num_var("HEARTH_MAX_CONNECTIONS")
                .filter(|&n| n > 0)
                .map_or(defaults.max_connections, |n| n as usize),
            shutdown_timeout: duration_var("HEARTH_SHUTDOWN_TIMEOUT")
                .unwrap_or(defaults.shutdown_timeout),
        })
    }
}

/// Keys, rate limit and generation caps, on matched routes only. Call it
/// after every route is added: `route_layer` only wraps routes that exist
/// at that point.
pub fn route_layers(router: Router<AppState>, s: &Settings) -> Router<AppState> {
    let mut router = router.route_layer(from_fn_with_state(s.caps, limits::generation_caps));
    if let Some(limiter) = &s.rate_limit {
        router = router.route_layer(from_fn_with_state(limiter.clone(), limits::rate_limit));
    }
    router.route_layer(from_fn_with_state(s.keys.clone(), auth::check))
}

/// The `Host` check and CORS, on every request (unknown paths included).
pub fn edge_layers(router: Router<AppState>, s: &Settings) -> Router<AppState> {
    router
        .layer(from_fn_with_state(s.origins.clone(), cors::check))
        .layer(from_fn_with_state(s.hosts.clone(), host::check))
}

/// Loopback addresses and `localhost`; an empty host means all interfaces.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn warn_insecure(addr: &str) {
    let line = "!".repeat(72);
    tracing::warn!("{line}");
    tracing::warn!("listening on {addr} WITHOUT AUTHENTICATION (--insecure-no-auth)");
    tracing::warn!("anyone who can reach this address can run, create and delete models");
    tracing::warn!("{line}");
}

/// A comma-separated variable, entries trimmed.
fn list_var(name: &str) -> Vec<String> {
    hearth_api::env::var(name)
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn num_var(name: &str) -> Option<u64> {
    let v = hearth_api::env::var(name);
    if v.is_empty() {
        return None;
    }
    v.parse()
        .map_err(|_| tracing::warn!(name, value = %v, "invalid number, using the default"))
        .ok()
}

/// A Go duration (`10s`, `1m30s`) or a number of seconds.
fn duration_var(name: &str) -> Option<Duration> {
    let v = hearth_api::env::var(name);
    if v.is_empty() {
        return None;
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    match hearth_api::duration::parse_go_duration(&v) {
        Ok(ns) if ns >= 0 => Some(Duration::from_nanos(ns as u64)),
        _ => {
            tracing::warn!(name, value = %v, "invalid duration, using the default");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback(""));
        assert!(!is_loopback("0.0.0.0"));
        assert!(!is_loopback("192.168.1.2"));
        assert!(!is_loopback("my-box"));
    }
}
