//! Talking to a server over HTTP: is it up (`/health`), what is loaded
//! (`/api/ps`), unload a model, and — before taking a port — who is
//! already listening there.
//!
//! Hearth answers `GET /` with "Ollama is running" (clients check that
//! text), so the two are told apart by `/health`, which only Hearth has.

use std::net::SocketAddr;
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

/// A small client bound to one base URL.
#[derive(Clone)]
pub struct Probe {
    client: reqwest::Client,
    base: String,
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
        }
    }

    /// `GET /health` answered `{"status":"ok"}`.
    pub async fn healthy(&self) -> bool {
        #[derive(serde::Deserialize)]
        struct Health {
            status: String,
        }
        match self.client.get(format!("{}/health", self.base)).send().await {
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
        let ps: Ps = self
            .client
            .get(format!("{}/api/ps", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(ps.models.into_iter().map(|m| m.name).collect())
    }

    /// Unloads a model the Ollama way: a generate request with
    /// `keep_alive: 0` and no prompt.
    pub async fn unload(&self, model: &str) -> crate::error::Result<()> {
        self.client
            .post(format!("{}/api/generate", self.base))
            .json(&serde_json::json!({"model": model, "keep_alive": 0}))
            .timeout(Duration::from_secs(30))
            .send()
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
