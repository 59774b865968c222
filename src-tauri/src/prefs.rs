//! Small app preferences in `<app config dir>/desktop.json`: whether the
//! first-run "start at login?" question was answered and which API keys
//! this app created (names only; the keys live in the keyring).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::keys::KeyInfo;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Prefs {
    #[serde(default)]
    pub autostart_asked: bool,
    #[serde(default)]
    pub keys: Vec<KeyInfo>,
}

pub struct PrefsFile {
    path: PathBuf,
}

impl PrefsFile {
    pub fn new(dir: &Path) -> Self {
        PrefsFile {
            path: dir.join("desktop.json"),
        }
    }

    /// The saved prefs; defaults when the file is missing or unreadable.
    pub fn load(&self) -> Prefs {
        std::fs::read(&self.path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes atomically (temp file + rename).
    pub fn save(&self, prefs: &Prefs) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(prefs)?)?;
        std::fs::rename(tmp, &self.path)
    }

    pub fn update(&self, f: impl FnOnce(&mut Prefs)) -> std::io::Result<Prefs> {
        let mut p = self.load();
        f(&mut p);
        self.save(&p)?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = PrefsFile::new(&dir.path().join("cfg"));
        assert_eq!(f.load(), Prefs::default());
        f.update(|p| p.autostart_asked = true).unwrap();
        assert!(f.load().autostart_asked);
    }
}
