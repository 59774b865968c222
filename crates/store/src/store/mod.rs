//! The model store rooted at a models directory (`manifests/` + `blobs/`,
//! the same layout as `~/.ollama/models`): opening it, locating its
//! directories, and startup hygiene of legacy blob names.
//!
//! The operations are split by subject: [`blobs`] (content-addressed files),
//! `resolve` (case-insensitive names), [`manifests`] (reading, writing,
//! copying, deleting), `list` (enumeration), [`prune`] (garbage
//! collection), [`model`] (the loaded view the server uses) and [`create`]
//! (writing new models).
//!
//! A `Store` is a plain path handle: it holds no locks or caches, every
//! method goes to disk, and every write is atomic, so clones may be used
//! from many threads (blocking I/O; async callers should use
//! `spawn_blocking`).

pub mod blobs;
pub mod create;
mod list;
pub mod manifests;
pub mod model;
pub mod prune;
mod resolve;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::error::Result;

pub use blobs::BlobWriter;
pub use manifests::ModelEntry;
pub use model::Model;
pub use prune::PruneReport;

/// Environment variable naming the models directory.
pub const MODELS_ENV: &str = "HEARTH_MODELS";

/// A models directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store at `root`, and renames legacy
    /// `sha256:<hex>` blob files to `sha256-<hex>`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let store = Store { root: root.into() };
        fs::create_dir_all(store.manifests_dir())?;
        fs::create_dir_all(store.blobs_dir())?;
        store.fix_legacy_blob_names()?;
        Ok(store)
    }

    /// `$HEARTH_MODELS` if set and non-empty, else `~/.hearth/models`.
    pub fn default_root() -> PathBuf {
        match env::var_os(MODELS_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => home_dir().join(".hearth").join("models"),
        }
    }

    /// The models directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/manifests`.
    pub fn manifests_dir(&self) -> PathBuf {
        self.root.join("manifests")
    }

    /// `<root>/blobs`.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// Old Ollama versions named blobs `sha256:<hex>`; rename them to the
    /// current `sha256-<hex>` unless the new name already exists.
    fn fix_legacy_blob_names(&self) -> Result<()> {
        for entry in fs::read_dir(self.blobs_dir())? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with("sha256:") {
                continue;
            }
            let Ok(digest) = Digest::parse(name) else {
                continue;
            };
            let target = self.blob_path(&digest);
            if target.exists() {
                tracing::warn!(
                    file = name,
                    "legacy blob name shadowed by current blob; leaving it"
                );
                continue;
            }
            // Best-effort: a read-only store must still open.
            match fs::rename(entry.path(), &target) {
                Ok(()) => {
                    tracing::info!(from = name, to = %digest.file_name(), "renamed legacy blob")
                }
                Err(e) => tracing::warn!(file = name, error = %e, "could not rename legacy blob"),
            }
        }
        Ok(())
    }
}

/// The user's home directory from the environment (no platform APIs, so
/// tests can steer it).
fn home_dir() -> PathBuf {
    ["HOME", "USERPROFILE"]
        .iter()
        .filter_map(env::var_os)
        .find(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the store's unit tests.

    use super::*;
    use crate::manifest::{media_type, Layer, Manifest};
    use crate::name::Name;

    /// A store in a fresh temp dir (the dir lives as long as the guard).
    pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("models")).unwrap();
        (dir, store)
    }

    pub(crate) fn name(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    /// Puts `content` as a blob and returns a layer of `media` for it.
    pub(crate) fn layer(store: &Store, media: &str, content: &[u8]) -> Layer {
        let digest = store.put_bytes(content).unwrap();
        Layer::new(media, &digest, content.len() as u64)
    }

    /// Writes a manifest for `n` with a config and one model layer holding
    /// `content`, returning the manifest.
    pub(crate) fn simple_model(store: &Store, n: &str, content: &[u8]) -> Manifest {
        let config = layer(store, media_type::CONFIG, b"{\"model_format\":\"gguf\"}\n");
        let model = layer(store, media_type::MODEL, content);
        let manifest = Manifest::new(config, vec![model]);
        store.write_manifest(&name(n), &manifest).unwrap();
        manifest
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn open_creates_layout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("a/b")).unwrap();
        assert!(store.manifests_dir().is_dir());
        assert!(store.blobs_dir().is_dir());
        // Opening again is fine.
        Store::open(store.root()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn open_renames_legacy_blobs() {
        let (_dir, store) = temp_store();
        let d = Digest::of_bytes(b"legacy");
        let legacy = store.blobs_dir().join(format!("sha256:{}", d.hex()));
        fs::write(&legacy, b"legacy").unwrap();
        let junk = store.blobs_dir().join("sha256:nothex");
        fs::write(&junk, b"").unwrap();
        let store = Store::open(store.root()).unwrap();
        assert!(!legacy.exists());
        assert!(store.has_blob(&d));
        assert!(junk.exists(), "non-digest names are left for pruning");
    }

    #[test]
    fn default_root_prefers_env() {
        // Env is process-global; this is the only test that touches it.
        let old = env::var_os(MODELS_ENV);
        env::set_var(MODELS_ENV, "/tmp/hearth-models-test");
        assert_eq!(
            Store::default_root(),
            PathBuf::from("/tmp/hearth-models-test")
        );
        env::set_var(MODELS_ENV, "");
        assert!(Store::default_root().ends_with(".hearth/models"));
        match old {
            Some(v) => env::set_var(MODELS_ENV, v),
            None => env::remove_var(MODELS_ENV),
        }
    }
}
