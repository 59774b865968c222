//! Creating API keys for the managed server: `hearth keys add` makes the
//! key (the server keeps only its hash), the plain key goes straight into
//! the OS keyring, and the app remembers only the names it created.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DesktopError, Result};
use crate::secrets::{mask, Secrets};

/// A key as the webview sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    pub hint: String,
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Runs `hearth keys add <name>` (same `HEARTH_HOME` as the server) and
/// stores the printed key in the keyring.
pub fn create(hearth: &Path, name: &str, secrets: &Secrets) -> Result<KeyInfo> {
    if !valid_name(name) || name == crate::probe::APP_KEY_NAME {
        return Err(DesktopError::KeyName(name.to_string()));
    }
    let out = std::process::Command::new(hearth)
        .args(["keys", "add", name, "--scope", "inference"])
        .stdin(std::process::Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(DesktopError::KeyTool(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !key.starts_with("hth_") {
        return Err(DesktopError::KeyTool("unexpected output".into()));
    }
    if let Err(e) = secrets.store(name, &key) {
        // A key nobody can read back is useless: revoke it again.
        let _ = std::process::Command::new(hearth)
            .args(["keys", "revoke", name])
            .output();
        return Err(e);
    }
    Ok(KeyInfo {
        name: name.to_string(),
        hint: mask(&key),
    })
}

/// Revokes a key on the server side and forgets it in the keyring.
pub fn revoke(hearth: &Path, name: &str, secrets: &Secrets) -> Result<()> {
    let out = std::process::Command::new(hearth)
        .args(["keys", "revoke", name])
        .output()?;
    if !out.status.success() {
        return Err(DesktopError::KeyTool(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    secrets.delete(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("laptop-1.work_x"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"x".repeat(65)));
    }
}
