//! Self-update through `tauri-plugin-updater`.
//!
//! The endpoint (`latest.json`) and the minisign public key come from
//! tauri.conf.json; `requireSignedVersion` makes the signature cover the
//! version too, so a tampered manifest cannot pair a new version number
//! with an old signed package. A check downloads the new bundle and
//! verifies its signature at once (like a browser's background update);
//! the user is told, and nothing is installed until they click Install.
//! Only strictly newer versions are offered (no downgrades).
//!
//! `HEARTH_DESKTOP_UPDATE_URL` replaces the endpoint (the tests serve
//! one from loopback); the public key cannot be changed at run time.

use serde::Serialize;
use tauri::AppHandle;
use tauri_plugin_updater::{Update, UpdaterExt};
use tokio::sync::Mutex;

use crate::error::{DesktopError, Result};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum UpdateState {
    Idle,
    Checking,
    Current {
        current: String,
    },
    /// Downloaded and its signature verified; waiting for the user.
    Ready {
        current: String,
        version: String,
        notes: Option<String>,
        bytes: usize,
    },
    Installing {
        version: String,
    },
    /// The update was refused: bad or missing signature, signed version
    /// not the announced one.
    Failed {
        error: String,
    },
    /// The update server could not be reached or answered nonsense; the
    /// next scheduled check tries again.
    Unreachable {
        error: String,
    },
}

/// Why a check ended without a verified update.
enum Fetch {
    /// No answer, or no usable manifest.
    Check(String),
    /// A manifest offered something we will not install.
    Refused(String),
}

#[derive(Default)]
pub struct Updates {
    state: std::sync::Mutex<Option<UpdateState>>,
    pending: Mutex<Option<(Update, Vec<u8>)>>,
}

impl Updates {
    pub fn state(&self) -> UpdateState {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or(UpdateState::Idle)
    }

    fn set(&self, s: UpdateState) {
        if let Ok(mut g) = self.state.lock() {
            *g = Some(s);
        }
    }

    /// Checks, downloads and verifies. Never installs.
    pub async fn check(&self, app: &AppHandle) -> UpdateState {
        self.set(UpdateState::Checking);
        let current = app.package_info().version.to_string();
        let state = match self.fetch(app).await {
            Ok(None) => UpdateState::Current { current },
            Ok(Some((update, bytes))) => {
                let ready = UpdateState::Ready {
                    current,
                    version: update.version.clone(),
                    notes: update.body.clone(),
                    bytes: bytes.len(),
                };
                *self.pending.lock().await = Some((update, bytes));
                ready
            }
            Err(Fetch::Refused(error)) => UpdateState::Failed { error },
            Err(Fetch::Check(error)) => UpdateState::Unreachable { error },
        };
        match &state {
            UpdateState::Failed { error } | UpdateState::Unreachable { error } => {
                tracing::warn!("update check: {error}")
            }
            other => tracing::info!("update check: {other:?}"),
        }
        self.set(state.clone());
        state
    }

    async fn fetch(&self, app: &AppHandle) -> Result<Option<(Update, Vec<u8>)>, Fetch> {
        let err = |e: tauri_plugin_updater::Error| Fetch::Check(e.to_string());
        let mut builder = app
            .updater_builder()
            // The default already refuses equal and older versions; spelled
            // out because "no downgrades" is a promise we make.
            .version_comparator(|current, release| release.version > current);
        if let Ok(url) = std::env::var("HEARTH_DESKTOP_UPDATE_URL") {
            let url = url
                .parse()
                .map_err(|e| Fetch::Check(format!("HEARTH_DESKTOP_UPDATE_URL: {e}")))?;
            builder = builder.endpoints(vec![url]).map_err(err)?;
        }
        let Some(update) = builder.build().map_err(err)?.check().await.map_err(err)? else {
            return Ok(None);
        };
        // download() verifies the minisign signature (and the signed
        // version) before returning the bytes.
        let bytes = update
            .download(|_, _| {}, || {})
            .await
            .map_err(|e| Fetch::Refused(format!("refused version {}: {e}", update.version)))?;
        Ok(Some((update, bytes)))
    }

    /// Installs the verified download (the user consented), then restarts.
    pub async fn install(&self, app: &AppHandle) -> Result<()> {
        let Some((update, bytes)) = self.pending.lock().await.take() else {
            return Err(DesktopError::Update("no verified update to install".into()));
        };
        self.set(UpdateState::Installing {
            version: update.version.clone(),
        });
        if let Err(e) = update.install(&bytes) {
            let error = e.to_string();
            self.set(UpdateState::Failed {
                error: error.clone(),
            });
            return Err(DesktopError::Update(error));
        }
        app.restart();
    }
}
