//! Manifest files: reading them (with the `/api/tags` facts: digest, size,
//! mtime), writing them atomically, and copying and deleting models.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Store;
use crate::digest::Digest;
use crate::error::{Result, StoreError};
use crate::fsutil;
use crate::manifest::Manifest;
use crate::name::Name;

/// Manifests are small JSON documents; anything bigger is not one of ours
/// and is refused rather than read into memory.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// Depth of a manifest file below `manifests/` (host/namespace/model/tag).
pub(crate) const NAME_DEPTH: usize = 4;

/// One installed model as `/api/tags` sees it.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    /// The name with its on-disk spelling.
    pub name: Name,
    pub manifest: Manifest,
    /// Hex SHA-256 of the manifest file bytes (64 chars, no prefix).
    pub digest: String,
    /// The manifest file's mtime.
    pub modified: SystemTime,
    /// Sum of all layer sizes plus the config size.
    pub size: u64,
}

impl Store {
    /// The manifest file of `name` exactly as spelled (after validation).
    pub fn manifest_path(&self, name: &Name) -> Result<PathBuf> {
        name.validate()?;
        Ok(self.manifests_dir().join(name.manifest_rel_path()))
    }

    /// Reads the manifest of `name` (resolved case-insensitively).
    /// `Ok(None)` if there is none; [`StoreError::CorruptManifest`] if it
    /// exists but cannot be parsed.
    pub fn read_manifest(&self, name: &Name) -> Result<Option<ModelEntry>> {
        let Some(resolved) = self.resolve(name)? else {
            return Ok(None);
        };
        match self.read_entry(resolved) {
            Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            other => other.map(Some),
        }
    }

    /// The raw manifest bytes of `name` (resolved case-insensitively), as
    /// served to registries on push.
    pub fn read_manifest_bytes(&self, name: &Name) -> Result<Option<Vec<u8>>> {
        let Some(resolved) = self.resolve(name)? else {
            return Ok(None);
        };
        match read_limited(&self.manifest_path(&resolved)?) {
            Ok((bytes, _)) => Ok(Some(bytes)),
            Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads and parses the manifest file of an exactly-spelled name.
    pub(crate) fn read_entry(&self, name: Name) -> Result<ModelEntry> {
        let path = self.manifest_path(&name)?;
        let (bytes, modified) = read_limited(&path)?;
        let manifest = Manifest::from_slice(&bytes)
            .map_err(|e| StoreError::CorruptManifest(format!("{name}: {e}")))?;
        Ok(ModelEntry {
            size: manifest.total_size(),
            digest: Digest::of_bytes(&bytes).hex().to_string(),
            name,
            manifest,
            modified,
        })
    }

    /// Writes `manifest` for `name` atomically (Go encoding, trailing
    /// newline). Every referenced blob must already be present.
    pub fn write_manifest(&self, name: &Name, manifest: &Manifest) -> Result<()> {
        self.write_manifest_bytes(name, &manifest.to_bytes()?)
    }

    /// Writes manifest bytes verbatim (pulled manifests are stored exactly
    /// as the registry served them), after checking that they parse, that
    /// every digest is valid and that every referenced blob is present —
    /// so a manifest never points at content that is not there.
    pub fn write_manifest_bytes(&self, name: &Name, bytes: &[u8]) -> Result<()> {
        let manifest = Manifest::from_slice(bytes)?;
        for digest in manifest.digests()? {
            if !self.has_blob(&digest) {
                return Err(StoreError::BlobNotFound(digest.to_string()));
            }
        }
        let target = self.canonicalize(name)?;
        self.put_manifest_file(&target, bytes)
    }

    /// Atomically places manifest bytes at the path of `name`.
    fn put_manifest_file(&self, name: &Name, bytes: &[u8]) -> Result<()> {
        let path = self.manifest_path(name)?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        // The temp file is staged directly in `manifests/`, one level deep,
        // where the 4-level manifest glob can never pick it up.
        fsutil::write_atomic(&self.manifests_dir(), &path, bytes)?;
        Ok(())
    }

    /// Copies the manifest of `src` byte-for-byte to `dst` (overwriting it).
    /// Blobs are shared. Copying a model onto itself is a no-op.
    pub fn copy(&self, src: &Name, dst: &Name) -> Result<()> {
        dst.validate()?;
        let resolved = self
            .resolve(src)?
            .ok_or_else(|| StoreError::ModelNotFound(src.display_shortest()))?;
        let target = self.canonicalize(dst)?;
        if target == resolved {
            return Ok(());
        }
        let (bytes, _) = read_limited(&self.manifest_path(&resolved)?)?;
        self.put_manifest_file(&target, &bytes)
    }

    /// Removes the manifest of `name`, prunes the directories it leaves
    /// empty, and deletes its blobs that no other manifest references.
    pub fn delete(&self, name: &Name) -> Result<()> {
        let resolved = self
            .resolve(name)?
            .ok_or_else(|| StoreError::ModelNotFound(name.display_shortest()))?;
        let path = self.manifest_path(&resolved)?;
        // A corrupt manifest can still be deleted; only its blobs are kept
        // because we cannot tell which they are.
        let digests = match self.read_entry(resolved.clone()) {
            Ok(entry) => entry.manifest.digests().unwrap_or_default(),
            Err(e) => {
                tracing::warn!(name = %resolved, error = %e, "deleting unreadable manifest");
                Vec::new()
            }
        };
        if !fsutil::remove_file_if_exists(&path)? {
            return Err(StoreError::ModelNotFound(name.display_shortest()));
        }
        if let Some(dir) = path.parent() {
            fsutil::sync_dir(dir)?;
            fsutil::prune_empty_ancestors(dir, &self.manifests_dir());
        }
        self.remove_unreferenced(digests)?;
        Ok(())
    }
}

/// Reads a whole file of at most [`MAX_MANIFEST_BYTES`], with its mtime.
fn read_limited(path: &Path) -> Result<(Vec<u8>, SystemTime)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST_BYTES {
        return Err(StoreError::CorruptManifest(format!(
            "{} is not a manifest file of at most {MAX_MANIFEST_BYTES} bytes",
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_MANIFEST_BYTES).read_to_end(&mut bytes)?;
    Ok((bytes, meta.modified()?))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::manifest::{media_type, Layer};

    #[test]
    fn write_then_read_round_trips() {
        let (_dir, store) = temp_store();
        let m = simple_model(&store, "llama3.2", b"weights");
        let entry = store.read_manifest(&name("llama3.2")).unwrap().unwrap();
        assert_eq!(entry.manifest, m);
        assert_eq!(entry.name.display_shortest(), "llama3.2:latest");
        let bytes = fs::read(store.manifest_path(&name("llama3.2")).unwrap()).unwrap();
        assert!(bytes.ends_with(b"}\n"));
        assert_eq!(entry.digest, Digest::of_bytes(&bytes).hex());
        assert_eq!(entry.digest.len(), 64);
        assert_eq!(entry.size, m.config.size + 7);
        assert_eq!(
            store
                .read_manifest_bytes(&name("llama3.2"))
                .unwrap()
                .unwrap(),
            bytes
        );
        assert!(store.read_manifest(&name("other")).unwrap().is_none());
        assert!(store.read_manifest_bytes(&name("other")).unwrap().is_none());
    }

    #[test]
    fn on_disk_layout_matches_ollama() {
        let (_dir, store) = temp_store();
        simple_model(&store, "localhost:5000/test/phi", b"w");
        let p = store.manifests_dir().join("localhost:5000/test/phi/latest");
        assert!(p.is_file());
        // No temp files are left behind anywhere.
        let stray: Vec<_> = fs::read_dir(store.manifests_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| fsutil::is_temp_name(e.file_name().to_str().unwrap()))
            .collect();
        assert!(stray.is_empty());
    }

    #[test]
    fn write_requires_blobs_and_valid_digests() {
        let (_dir, store) = temp_store();
        let missing = Layer::new(media_type::MODEL, &Digest::of_bytes(b"nope"), 4);
        let m = Manifest::new(Layer::default(), vec![missing]);
        assert!(matches!(
            store.write_manifest(&name("m"), &m),
            Err(StoreError::BlobNotFound(_))
        ));
        let mut bad = m.clone();
        bad.layers[0].digest = "sha256:../../../etc/passwd".into();
        assert!(matches!(
            store.write_manifest(&name("m"), &bad),
            Err(StoreError::InvalidDigest)
        ));
        assert!(matches!(
            store.write_manifest_bytes(&name("m"), b"garbage"),
            Err(StoreError::CorruptManifest(_))
        ));
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn copy_is_byte_for_byte() {
        let (_dir, store) = temp_store();
        simple_model(&store, "src", b"w");
        // Hand-written manifest with unknown fields must survive the copy.
        let src_path = store.manifest_path(&name("src")).unwrap();
        let mut text = fs::read_to_string(&src_path).unwrap();
        text = text.replacen('{', "{\"annotations\":{\"k\":\"v\"},", 1);
        fs::write(&src_path, &text).unwrap();
        store.copy(&name("SRC"), &name("backup/dst:v1")).unwrap();
        let dst = fs::read_to_string(store.manifest_path(&name("backup/dst:v1")).unwrap()).unwrap();
        assert_eq!(dst, text);
        let a = store.read_manifest(&name("src")).unwrap().unwrap();
        let b = store
            .read_manifest(&name("backup/dst:v1"))
            .unwrap()
            .unwrap();
        assert_eq!(a.digest, b.digest);
        // Onto itself: no-op.
        store.copy(&name("src"), &name("Src")).unwrap();
        assert_eq!(fs::read_to_string(&src_path).unwrap(), text);
        assert!(matches!(
            store.copy(&name("missing"), &name("x")),
            Err(StoreError::ModelNotFound(_))
        ));
    }

    #[test]
    fn delete_prunes_dirs_and_unshared_blobs() {
        let (_dir, store) = temp_store();
        let a = simple_model(&store, "alice/a", b"only-a");
        let b = simple_model(&store, "bob/b", b"only-b");
        store.copy(&name("alice/a"), &name("carol/c")).unwrap();
        let a_model = a.layers[0].parsed_digest().unwrap();
        let b_model = b.layers[0].parsed_digest().unwrap();
        let config = a.config.parsed_digest().unwrap();

        store.delete(&name("alice/a")).unwrap();
        assert!(!store
            .manifests_dir()
            .join("registry.ollama.ai/alice")
            .exists());
        assert!(store.manifests_dir().join("registry.ollama.ai").exists());
        assert!(store.has_blob(&a_model), "still used by carol/c");

        store.delete(&name("CAROL/C")).unwrap();
        assert!(!store.has_blob(&a_model));
        assert!(store.has_blob(&config), "config shared with bob/b");
        assert!(store.has_blob(&b_model));
        assert!(store.manifests_dir().is_dir());

        assert!(matches!(
            store.delete(&name("alice/a")),
            Err(StoreError::ModelNotFound(_))
        ));
    }

    #[test]
    fn delete_keeps_blobs_when_another_manifest_is_corrupt() {
        let (_dir, store) = temp_store();
        let a = simple_model(&store, "a", b"only-a");
        let root = store.manifests_dir();
        fs::create_dir_all(root.join("h/n/bad")).unwrap();
        fs::write(root.join("h/n/bad/latest"), b"{").unwrap();
        store.delete(&name("a")).unwrap();
        assert!(store.has_blob(&a.layers[0].parsed_digest().unwrap()));
    }

    #[test]
    fn delete_corrupt_manifest_works() {
        let (_dir, store) = temp_store();
        let root = store.manifests_dir().join("registry.ollama.ai/library/bad");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("latest"), b"nope").unwrap();
        assert!(matches!(
            store.read_manifest(&name("bad")),
            Err(StoreError::CorruptManifest(_))
        ));
        store.delete(&name("bad")).unwrap();
        assert!(!root.exists());
    }

    #[test]
    fn invalid_names_never_touch_disk() {
        let (_dir, store) = temp_store();
        let mut evil = name("m");
        evil.model = "..".into();
        assert!(matches!(store.resolve(&evil), Err(StoreError::InvalidName)));
        assert!(matches!(
            store.manifest_path(&evil),
            Err(StoreError::InvalidName)
        ));
        assert!(matches!(store.delete(&evil), Err(StoreError::InvalidName)));
        assert!(matches!(
            store.copy(&name("m"), &evil),
            Err(StoreError::InvalidName)
        ));
    }
}
