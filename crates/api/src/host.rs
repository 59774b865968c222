//! `HEARTH_HOST` parsing with Ollama's `OLLAMA_HOST` rules (spec §4.1).
//!
//! One variable serves both sides: the server binds to it and clients
//! connect to it. The rules are Go's: `[scheme://]host[:port][/path]`, no
//! scheme means `http` with port 11434, `http://` defaults to port 80 and
//! `https://` to 443, a bare `:PORT` means all interfaces, and an invalid
//! port falls back to the default instead of failing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The environment variable read by [`Host::from_env`].
pub const HOST_ENV: &str = "HEARTH_HOST";
/// Port used when neither the value nor its scheme implies one.
pub const DEFAULT_PORT: u16 = 11434;

/// A parsed `HEARTH_HOST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `http` unless the value names another scheme.
    pub scheme: String,
    /// Host name or IP without brackets; empty means all interfaces.
    pub host: String,
    /// Port number.
    pub port: u16,
    /// Path after the first `/` (no leading slash); only clients use it.
    pub path: String,
    /// The port text that was rejected in favour of the default, if any,
    /// so the server can log Ollama's `invalid port, using default` warning.
    pub invalid_port: Option<String>,
}

impl Default for Host {
    fn default() -> Self {
        Host::parse("")
    }
}

impl Host {
    /// Read and parse [`HOST_ENV`] (unset means `127.0.0.1:11434`).
    pub fn from_env() -> Host {
        Host::parse(&crate::env::var(HOST_ENV))
    }

    /// Parse a value with Ollama's rules; never fails.
    pub fn parse(value: &str) -> Host {
        let value = crate::env::clean(value).trim();
        let (scheme, hostport, default_port) = split_scheme(value);
        let (hostport, path) = hostport.split_once('/').unwrap_or((hostport, ""));
        let (host, port_text) = match split_host_port(hostport) {
            Some((host, port)) => (host.to_string(), port.to_string()),
            None => (fallback_host(hostport), default_port.to_string()),
        };
        let (port, invalid_port) = match parse_port(&port_text) {
            Some(port) => (port, None),
            None => (default_port, Some(port_text)),
        };
        Host {
            scheme,
            host,
            port,
            path: path.to_string(),
            invalid_port,
        }
    }

    /// The URL a client should talk to, e.g. `http://127.0.0.1:11434`.
    ///
    /// Bind-only addresses (empty host, `0.0.0.0`, `::`) are replaced by the
    /// matching loopback address, because connecting to them fails on some
    /// platforms. A path, if any, is kept (`http://host:80/prefix`).
    pub fn base_url(&self) -> String {
        let host = bracket(&connectable(&self.host));
        let mut url = format!("{}://{}:{}", self.scheme, host, self.port);
        if !self.path.is_empty() {
            url.push('/');
            url.push_str(self.path.trim_end_matches('/'));
        }
        url
    }

    /// The address the server should listen on, e.g. `127.0.0.1:11434`,
    /// `0.0.0.0:8080` (for `:8080`) or `[::1]:11434`. Host names are left for
    /// the listener to resolve.
    pub fn bind_addr(&self) -> String {
        let host = if self.host.is_empty() {
            "0.0.0.0"
        } else {
            &self.host
        };
        format!("{}:{}", bracket(host), self.port)
    }
}

/// Split off `scheme://`, returning the default port the scheme implies.
fn split_scheme(value: &str) -> (String, &str, u16) {
    match value.split_once("://") {
        // Ollama's own special case: a bare `ollama.com` means its cloud.
        None if value == "ollama.com" => ("https".into(), "ollama.com:443", 443),
        None => ("http".into(), value, DEFAULT_PORT),
        Some(("http", rest)) => ("http".into(), rest, 80),
        Some(("https", rest)) => ("https".into(), rest, 443),
        Some((scheme, rest)) => (scheme.to_string(), rest, DEFAULT_PORT),
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`; `None` when the
/// text has no port, too many colons, or stray brackets.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let colon = hostport.rfind(':')?;
    let (host, search_from) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        if close + 1 != colon {
            return None;
        }
        (&hostport[1..close], (1, close + 1))
    } else {
        let host = &hostport[..colon];
        if host.contains(':') {
            return None;
        }
        (host, (0, 0))
    };
    if hostport[search_from.0..].contains('[') || hostport[search_from.1..].contains(']') {
        return None;
    }
    Some((host, &hostport[colon + 1..]))
}

/// Host for a value without a usable `host:port` form: an IP (brackets
/// allowed, printed canonically), else the text itself, else 127.0.0.1.
fn fallback_host(hostport: &str) -> String {
    let unbracketed = hostport.trim_matches(|c| c == '[' || c == ']');
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return canonical_ip(ip);
    }
    if hostport.is_empty() {
        "127.0.0.1".to_string()
    } else {
        hostport.to_string()
    }
}

/// Go prints IPv4-mapped IPv6 addresses as plain IPv4.
fn canonical_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// Go accepts any integer in 0..=65535, including a leading `+`.
fn parse_port(text: &str) -> Option<u16> {
    text.parse::<i64>().ok().and_then(|n| u16::try_from(n).ok())
}

fn connectable(host: &str) -> String {
    match host.parse::<IpAddr>() {
        _ if host.is_empty() => Ipv4Addr::LOCALHOST.to_string(),
        Ok(IpAddr::V4(v4)) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        Ok(IpAddr::V6(v6)) if v6.is_unspecified() => Ipv6Addr::LOCALHOST.to_string(),
        _ => host.to_string(),
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(value: &str) -> (String, String, u16, String) {
        let h = Host::parse(value);
        (h.scheme, h.host, h.port, h.path)
    }

    fn t(scheme: &str, host: &str, port: u16, path: &str) -> (String, String, u16, String) {
        (scheme.into(), host.into(), port, path.into())
    }

    #[test]
    fn ollama_host_rules() {
        assert_eq!(hp(""), t("http", "127.0.0.1", 11434, ""));
        assert_eq!(hp("1.2.3.4"), t("http", "1.2.3.4", 11434, ""));
        assert_eq!(hp(":1234"), t("http", "", 1234, ""));
        assert_eq!(hp("1.2.3.4:1234"), t("http", "1.2.3.4", 1234, ""));
        assert_eq!(hp("example.com"), t("http", "example.com", 11434, ""));
        assert_eq!(hp("example.com:1234"), t("http", "example.com", 1234, ""));
        assert_eq!(hp("http://1.2.3.4"), t("http", "1.2.3.4", 80, ""));
        assert_eq!(hp("https://1.2.3.4"), t("https", "1.2.3.4", 443, ""));
        assert_eq!(hp("http://1.2.3.4:4321"), t("http", "1.2.3.4", 4321, ""));
        assert_eq!(hp("0.0.0.0"), t("http", "0.0.0.0", 11434, ""));
        assert_eq!(hp("0.0.0.0:8080"), t("http", "0.0.0.0", 8080, ""));
        assert_eq!(hp("[::1]:11434"), t("http", "::1", 11434, ""));
        assert_eq!(hp("[::1]"), t("http", "::1", 11434, ""));
        assert_eq!(hp("::1"), t("http", "::1", 11434, ""));
        assert_eq!(hp("[0:0:0:0:0:0:0:1]"), t("http", "::1", 11434, ""));
        assert_eq!(hp("http://[::1]"), t("http", "::1", 80, ""));
        assert_eq!(
            hp("example.com/path"),
            t("http", "example.com", 11434, "path")
        );
        assert_eq!(
            hp("https://example.com:8443/a/b/"),
            t("https", "example.com", 8443, "a/b/")
        );
        assert_eq!(hp("  \"1.2.3.4:5\"  "), t("http", "1.2.3.4", 5, ""));
        assert_eq!(hp("ollama.com"), t("https", "ollama.com", 443, ""));
    }

    #[test]
    fn invalid_port_falls_back_to_default() {
        let h = Host::parse("1.2.3.4:99999");
        assert_eq!((h.host.as_str(), h.port), ("1.2.3.4", 11434));
        assert_eq!(h.invalid_port.as_deref(), Some("99999"));
        let h = Host::parse("http://example.com:abc");
        assert_eq!((h.host.as_str(), h.port), ("example.com", 80));
        let h = Host::parse("example.com:");
        assert_eq!((h.host.as_str(), h.port), ("example.com", 11434));
        assert!(Host::parse("1.2.3.4:80").invalid_port.is_none());
    }

    #[test]
    fn client_urls_use_loopback_for_bind_all() {
        assert_eq!(Host::parse("").base_url(), "http://127.0.0.1:11434");
        assert_eq!(Host::parse("0.0.0.0").base_url(), "http://127.0.0.1:11434");
        assert_eq!(Host::parse(":8080").base_url(), "http://127.0.0.1:8080");
        assert_eq!(Host::parse("[::]:5").base_url(), "http://[::1]:5");
        assert_eq!(Host::parse("[::1]").base_url(), "http://[::1]:11434");
        assert_eq!(Host::parse("https://h/p/").base_url(), "https://h:443/p");
    }

    #[test]
    fn server_bind_addresses() {
        assert_eq!(Host::parse("").bind_addr(), "127.0.0.1:11434");
        assert_eq!(Host::parse(":8080").bind_addr(), "0.0.0.0:8080");
        assert_eq!(Host::parse("0.0.0.0").bind_addr(), "0.0.0.0:11434");
        assert_eq!(Host::parse("[::1]:9").bind_addr(), "[::1]:9");
        assert_eq!(Host::parse("localhost").bind_addr(), "localhost:11434");
    }
}
