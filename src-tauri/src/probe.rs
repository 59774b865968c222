//! Talking to a server over HTTP: is it up (`/health`), what is loaded
//! (`/api/ps`), unload a model, and — before taking a port — who is
//! already listening there.
//!
//! Hearth answers `GET /` with "Ollama is running" (clients check that
//! text), so the two are told apart by `/health`, which only Hearth has.
//!
//! Once the user has created an API key, the server wants one on every
//! API call, loopback included. The app then mints its own admin key
//! (`hearth keys add hearth-desktop`) on the first 401 and keeps it in
//! memory only; a new one replaces it after a restart of the app.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

/// Who holds a port we wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Occupant {
    Hearth { version: String },
    Ollama { version: String },
    Other,
}

impl std::fmt::Display for Occupant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Occupant::Hearth { version } => write!(f, "another Hearth server (API {version})"),
            Occupant::Ollama { version } => write!(f, "Ollama {version}"),
            Occupant::Other => write!(f, "another program (not an Ollama-compatible server)"),
        }
    }
}

/// Name of the key the app mints for its own calls (reserved).
pub const APP_KEY_NAME: &str = "hearth-desktop";

/// How to get a key when the server asks for one.
#[derive(Default)]
struct Auth {
    /// `hearth` and the environment the server runs with (`HEARTH_HOME`).
    minter: Option<(PathBuf, Vec<(String, String)>)>,
    key: Mutex<Option<String>>,
}

/// A small client bound to one base URL.
#[derive(Clone)]
pub struct Probe {
    client: reqwest::Client,
    base: String,
    auth: Arc<Auth>,
}

impl Probe {
    pub fn new(base: &str) -> Self {
        // reqwest here has no TLS provider of its own (the updater's
        // choice); building a client without one panics, even for http.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .no_proxy()
            .build()
            .unwrap_or_default();
        Probe {
            client,
            base: base.trim_end_matches('/').to_string(),
            auth: Arc::default(),
        }
    }

    /// A probe that can mint the app's own key with `hearth keys add`.
    pub fn with_key_minter(base: &str, hearth: PathBuf, env: Vec<(String, String)>) -> Self {
        let mut p = Self::new(base);
        p.auth = Arc::new(Auth {
            minter: Some((hearth, env)),
            key: Mutex::default(),
        });
        p
    }

    fn key(&self) -> Option<String> {
        self.auth.key.lock().ok().and_then(|k| k.clone())
    }

    /// Replaces the app key: revoke the old one (by name), add a new one.
    async fn mint_key(&self) -> crate::error::Result<()> {
        use crate::error::DesktopError;
        let Some((hearth, env)) = &self.auth.minter else {
            return Err(DesktopError::KeyTool(
                "no hearth binary to mint a key".into(),
            ));
        };
        let run = |args: &[&str]| {
            let mut c = tokio::process::Command::new(hearth);
            c.args(args)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(std::process::Stdio::null());
            c
        };
        let _ = run(&["keys", "revoke", APP_KEY_NAME]).output().await;
        let out = run(&["keys", "add", APP_KEY_NAME, "--scope", "admin"])
            .output()
            .await?;
        let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || !key.starts_with("hth_") {
            return Err(DesktopError::KeyTool(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        if let Ok(mut k) = self.auth.key.lock() {
            *k = Some(key);
        }
        tracing::info!("minted the app's own API key ({APP_KEY_NAME})");
        Ok(())
    }

    /// Sends a request with the app key; on 401 mints one and retries once.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> crate::error::Result<reqwest::Response> {
        let with_key = |rb: reqwest::RequestBuilder| match self.key() {
            Some(k) => rb.bearer_auth(k),
            None => rb,
        };
        let r = with_key(build()).send().await?;
        if r.status() != reqwest::StatusCode::UNAUTHORIZED || self.auth.minter.is_none() {
            return Ok(r);
        }
        self.mint_key().await?;
        Ok(with_key(build()).send().await?)
    }

    /// `GET /health` answered `{"status":"ok"}`.
    pub async fn healthy(&self) -> bool {
        #[derive(serde::Deserialize)]
        struct Health {
            status: String,
        }
        match self
            .client
            .get(format!("{}/health", self.base))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r
                .json::<Health>()
                .await
                .map(|h| h.status == "ok")
                .unwrap_or(false),
            _ => false,
        }
    }

    /// Names of the loaded models (`GET /api/ps`).
    pub async fn loaded_models(&self) -> crate::error::Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Ps {
            models: Vec<Model>,
        }
        #[derive(serde::Deserialize)]
        struct Model {
            name: String,
        }
        let url = format!("{}/api/ps", self.base);
        let ps: Ps = self
            .send(|| self.client.get(&url))
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(ps.models.into_iter().map(|m| m.name).collect())
    }

    /// Unloads a model the Ollama way: a generate request with
    /// `keep_alive: 0` and no prompt.
    pub async fn unload(&self, model: &str) -> crate::error::Result<()> {
        let url = format!("{}/api/generate", self.base);
        let body = serde_json::json!({"model": model, "keep_alive": 0});
        self.send(|| {
            self.client
                .post(&url)
                .json(&body)
                .timeout(Duration::from_secs(30))
        })
        .await?
        .error_for_status()?;
        Ok(())
    }

    /// Who answers on this base URL, if anyone accepts connections there.
    pub async fn identify(&self) -> Option<Occupant> {
        let addr: SocketAddr = self.base.trim_start_matches("http://").parse().ok()?;
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(800), connect).await {
            Ok(Ok(_)) => {}
            _ => return None,
        }
        let version = self.api_version().await;
        let root_ok = match self.client.get(format!("{}/", self.base)).send().await {
            Ok(r) => r.text().await.unwrap_or_default().contains("is running"),
            Err(_) => false,
        };
        Some(match (version, root_ok) {
            (Some(version), _) if self.healthy().await => Occupant::Hearth { version },
            (Some(version), true) => Occupant::Ollama { version },
            _ => Occupant::Other,
        })
    }

    async fn api_version(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Version {
            version: String,
        }
        let r = self
            .client
            .get(format!("{}/api/version", self.base))
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json::<Version>().await.ok().map(|v| v.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A minimal HTTP/1.1 server that answers like Ollama: "Ollama is
    /// running", a version, and 404 on /health.
    async fn fake_ollama() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]);
                    let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (status, body) = match path.as_str() {
                        "/" => ("200 OK", "Ollama is running".to_string()),
                        "/api/version" => ("200 OK", r#"{"version":"0.9.1"}"#.to_string()),
                        _ => ("404 Not Found", "404 page not found".to_string()),
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn tells_ollama_apart() {
        let url = fake_ollama().await;
        let who = Probe::new(&url).identify().await;
        assert_eq!(
            who,
            Some(Occupant::Ollama {
                version: "0.9.1".into()
            })
        );
        assert_eq!(who.unwrap().to_string(), "Ollama 0.9.1");
    }

    #[tokio::test]
    async fn a_free_port_has_no_occupant() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(
            Probe::new(&format!("http://127.0.0.1:{port}"))
                .identify()
                .await,
            None
        );
    }
}
