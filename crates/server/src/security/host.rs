//! The `Host` header check that defeats DNS rebinding.
//!
//! A rebinding page talks to our port *under the attacker's host name*, so
//! the defence is to refuse any `Host` that is not one of our own names.
//! Unlike Ollama, which checks only loopback binds and accepts any `*.local`
//! name, the check runs on every bind against an explicit list: `localhost`
//! and `*.localhost` (browsers pin those to loopback), the machine's host
//! name, the bind host, `HEARTH_ALLOWED_HOSTS`, and IP literals (an IP
//! literal cannot be rebound) that are loopback or the bound address — any
//! IP when bound to all interfaces.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header::HOST, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which `Host` values the server answers to.
#[derive(Debug, Clone, Default)]
pub struct HostAllowList {
    /// Exact names, lower-case, without a trailing dot.
    names: Vec<String>,
    /// Suffixes such as `.localhost` (an entry `.example.com` in
    /// `HEARTH_ALLOWED_HOSTS`).
    suffixes: Vec<String>,
    /// The address the server is bound to, if it is an IP.
    bound_ip: Option<IpAddr>,
}

impl HostAllowList {
    /// The list for a server bound to `bind_host` (a name, an IP, or empty
    /// for all interfaces), plus `extra` entries.
    pub fn new(bind_host: &str, extra: &[String]) -> Self {
        let mut list = Self {
            names: vec!["localhost".to_string()],
            suffixes: vec![".localhost".to_string()],
            bound_ip: None,
        };
        if let Some(name) = machine_hostname() {
            list.names.push(name);
        }
        let bind = normalise(bind_host);
        match bind.parse::<IpAddr>() {
            Ok(ip) => list.bound_ip = Some(ip),
            Err(_) if bind.is_empty() => list.bound_ip = Some(IpAddr::from([0, 0, 0, 0])),
            Err(_) => list.names.push(bind),
        }
        for entry in extra.iter().map(|e| normalise(e)).filter(|e| !e.is_empty()) {
            if entry.starts_with('.') {
                list.suffixes.push(entry);
            } else {
                list.names.push(entry);
            }
        }
        list
    }

    /// Whether a `Host` header value (with or without a port) is ours.
    pub fn allows(&self, host_header: &str) -> bool {
        let Some(host) = strip_port(host_header) else {
            return false;
        };
        let host = normalise(host);
        if host.is_empty() {
            // HTTP/1.0 clients send no Host; browsers always do.
            return true;
        }
        match host.parse::<IpAddr>() {
            Ok(ip) => self.allows_ip(ip),
            Err(_) => {
                self.names.contains(&host)
                    || self.suffixes.iter().any(|s| host.ends_with(s.as_str()))
            }
        }
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        match self.bound_ip {
            _ if ip.is_loopback() => true,
            Some(bound) if bound.is_unspecified() => true,
            Some(bound) => bound == ip,
            None => false,
        }
    }
}

/// Middleware: 403 with an empty body for a foreign `Host`, 400 for a
/// request that carries two.
pub async fn check(State(list): State<HostAllowList>, req: Request, next: Next) -> Response {
    let mut values = req.headers().get_all(HOST).iter();
    let first = values.next();
    if values.next().is_some() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let header_ok = first.is_none_or(|v| v.to_str().is_ok_and(|h| list.allows(h)));
    // An absolute-form request line carries the authority in the URI too.
    let authority = req.uri().authority();
    let authority_ok = authority.is_none_or(|a| list.allows(a.as_str()));
    if !(header_ok && authority_ok) {
        tracing::warn!(host = ?first, authority = ?authority, "rejected request for a foreign Host");
        return StatusCode::FORBIDDEN.into_response();
    }
    next.run(req).await
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` → the host part; `None` for
/// malformed values (stray brackets, a non-numeric port).
fn strip_port(value: &str) -> Option<&str> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        return (after.is_empty() || port_ok(after.strip_prefix(':')?)).then_some(inside);
    }
    match value.rsplit_once(':') {
        // A bare IPv6 literal without brackets has several colons.
        Some((host, _)) if host.contains(':') => Some(value),
        Some((host, port)) => port_ok(port).then_some(host),
        None => Some(value),
    }
}

fn port_ok(port: &str) -> bool {
    !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
}

/// Lower-case, without surrounding brackets or one trailing dot.
fn normalise(host: &str) -> String {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// This machine's host name, so `http://myhost:11434` works from itself.
fn machine_hostname() -> Option<String> {
    let raw = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())?;
    let name = normalise(&raw);
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> HostAllowList {
        HostAllowList::new("127.0.0.1", &[])
    }

    #[test]
    fn local_names_and_loopback_ips_pass() {
        let list = loopback();
        for h in [
            "localhost",
            "localhost:11434",
            "LOCALHOST.:80",
            "127.0.0.1:11434",
            "[::1]:11434",
            "[::1]",
            "tauri.localhost",
            "",
        ] {
            assert!(list.allows(h), "{h}");
        }
    }

    #[test]
    fn foreign_and_lookalike_names_fail() {
        let list = loopback();
        for h in [
            "attacker.example",
            "attacker.example:11434",
            "localhost.attacker.com",
            "127.0.0.1.nip.io",
            "192.168.1.10:11434",
            "localhost:abc",
            "[::1",
            "evil.local",
        ] {
            assert!(!list.allows(h), "{h}");
        }
    }

    #[test]
    fn bound_ip_and_extra_names_pass() {
        let list = HostAllowList::new("192.168.1.10", &["box.lan".into(), ".corp.example".into()]);
        assert!(list.allows("192.168.1.10:11434"));
        assert!(!list.allows("192.168.1.11:11434"));
        assert!(list.allows("box.lan:11434"));
        assert!(list.allows("gpu.corp.example"));
        assert!(!list.allows("corp.example.evil"));
        let all = HostAllowList::new("0.0.0.0", &[]);
        assert!(all.allows("10.1.2.3:11434"));
        assert!(!all.allows("rebind.attacker.example"));
    }
}
