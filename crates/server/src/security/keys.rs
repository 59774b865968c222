//! The API-key file: named keys with a scope, stored only as SHA-256 hashes.
//!
//! `hearth keys add|list|revoke` edit it; the server reads it (and re-reads
//! it when it changes, so a revoked key stops working at once). A key is
//! `hth_` + 64 hex digits (256 random bits); the prefix lets secret scanners
//! find leaked keys. The file lives in `$HEARTH_HOME` (default `~/.hearth`),
//! is replaced atomically and is readable by its owner only.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::SecurityError;

/// Prefix of every key Hearth issues.
pub const KEY_PREFIX: &str = "hth_";
/// Directory of the key file (and Hearth's other state).
pub const HOME_ENV: &str = "HEARTH_HOME";

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Generate, chat, list and show models.
    Inference,
    /// Everything, including create, copy, delete, pull, push and blobs.
    Admin,
}

impl Scope {
    /// Whether a key of this scope may do what `required` needs.
    pub fn allows(self, required: Scope) -> bool {
        self == Scope::Admin || required == Scope::Inference
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Inference => "inference",
            Scope::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = SecurityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inference" => Ok(Scope::Inference),
            "admin" => Ok(Scope::Admin),
            other => Err(SecurityError::InvalidScope(other.to_string())),
        }
    }
}

/// One key as stored: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub name: String,
    pub scope: Scope,
    /// `sha256:<hex>` of the key.
    pub hash: String,
    /// RFC 3339, for `hearth keys list`.
    pub created_at: String,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    #[serde(default)]
    pub keys: Vec<KeyRecord>,
}

impl KeyFile {
    /// `$HEARTH_HOME/keys.json`, else `~/.hearth/keys.json`.
    pub fn default_path() -> PathBuf {
        let home = match std::env::var_os(HOME_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".hearth"),
        };
        home.join("keys.json")
    }

    /// Reads the file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, SecurityError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(SecurityError::io(path, e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| SecurityError::KeyFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Replaces the file atomically (temp file, fsync, rename), mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), SecurityError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| SecurityError::io(dir, e))?;
        // tempfile creates files with mode 0600 on Unix.
        let mut tmp = tempfile::Builder::new()
            .prefix(".keys-")
            .tempfile_in(dir)
            .map_err(|e| SecurityError::io(dir, e))?;
        let json = serde_json::to_vec_pretty(self).expect("key file serializes");
        tmp.write_all(&json)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| SecurityError::io(path, e))?;
        tmp.persist(path)
            .map_err(|e| SecurityError::io(path, e.error))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Adds a key named `name` and returns the key itself — the only time
    /// it exists outside the caller's hands.
    pub fn add(&mut self, name: &str, scope: Scope) -> Result<String, SecurityError> {
        validate_name(name)?;
        if self.keys.iter().any(|k| k.name == name) {
            return Err(SecurityError::DuplicateKey(name.to_string()));
        }
        let key = generate()?;
        self.keys.push(KeyRecord {
            name: name.to_string(),
            scope,
            hash: hash(&key),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        Ok(key)
    }

    /// Removes the key named `name`.
    pub fn revoke(&mut self, name: &str) -> Result<(), SecurityError> {
        let before = self.keys.len();
        self.keys.retain(|k| k.name != name);
        if self.keys.len() == before {
            return Err(SecurityError::UnknownKey(name.to_string()));
        }
        Ok(())
    }

    /// The record whose hash matches `presented`. Every record is compared,
    /// in constant time, so timing says nothing about which one matched.
    pub fn find(&self, presented: &str) -> Option<&KeyRecord> {
        let wanted = hash(presented);
        let mut found = None;
        for record in &self.keys {
            if bool::from(record.hash.as_bytes().ct_eq(wanted.as_bytes())) {
                found = Some(record);
            }
        }
        found
    }
}

/// `sha256:<hex>` of a key.
pub fn hash(key: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

fn generate() -> Result<String, SecurityError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| SecurityError::Random(e.to_string()))?;
    Ok(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

/// Key names are labels for people and logs: short, no spaces or quotes.
fn validate_name(name: &str) -> Result<(), SecurityError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(SecurityError::InvalidKeyName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_find_revoke() {
        let mut file = KeyFile::default();
        let key = file.add("laptop", Scope::Inference).unwrap();
        assert!(key.starts_with(KEY_PREFIX) && key.len() == KEY_PREFIX.len() + 64);
        assert_eq!(file.find(&key).unwrap().name, "laptop");
        assert!(file.find("hth_wrong").is_none());
        assert!(!file.keys[0].hash.contains(&key[4..]));
        assert!(file.add("laptop", Scope::Admin).is_err());
        assert!(file.add("bad name", Scope::Admin).is_err());
        file.revoke("laptop").unwrap();
        assert!(file.find(&key).is_none());
        assert!(file.revoke("laptop").is_err());
    }

    #[test]
    fn scopes() {
        assert!(Scope::Admin.allows(Scope::Admin));
        assert!(Scope::Admin.allows(Scope::Inference));
        assert!(Scope::Inference.allows(Scope::Inference));
        assert!(!Scope::Inference.allows(Scope::Admin));
        assert_eq!("admin".parse::<Scope>().unwrap(), Scope::Admin);
        assert!("root".parse::<Scope>().is_err());
    }

    #[test]
    fn save_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/keys.json");
        assert_eq!(KeyFile::load(&path).unwrap(), KeyFile::default());
        let mut file = KeyFile::default();
        let key = file.add("ci", Scope::Admin).unwrap();
        file.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&key));
        assert_eq!(KeyFile::load(&path).unwrap(), file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
