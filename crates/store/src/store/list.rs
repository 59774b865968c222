//! Enumerating installed models: exactly the files at
//! `manifests/*/*/*/*` whose path parts form a valid name, as Ollama's glob
//! does; anything else is ignored with a warning.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::Path;

use super::manifests::{ModelEntry, NAME_DEPTH};
use super::Store;
use crate::error::{Result, StoreError};
use crate::fsutil;
use crate::name::Name;

/// Result of walking every manifest on disk.
pub(crate) struct Scan {
    pub(crate) entries: Vec<ModelEntry>,
    /// Manifests with a valid name that could not be read or parsed.
    pub(crate) corrupt: usize,
}

impl Store {
    /// Every installed model, newest first. Files outside the
    /// `host/namespace/model/tag` shape, invalid names and unparsable
    /// manifests are skipped with a warning.
    pub fn list(&self) -> Result<Vec<ModelEntry>> {
        let mut entries = self.scan_manifests()?.entries;
        entries.sort_by(|a, b| {
            b.modified
                .cmp(&a.modified)
                .then_with(|| a.name.to_string().cmp(&b.name.to_string()))
        });
        Ok(entries)
    }

    /// Reads every manifest at depth 4, counting the corrupt ones.
    pub(crate) fn scan_manifests(&self) -> Result<Scan> {
        let mut scan = Scan {
            entries: Vec::new(),
            corrupt: 0,
        };
        for name in self.manifest_names()? {
            match self.read_entry(name.clone()) {
                Ok(entry) => scan.entries.push(entry),
                // Deleted between listing and reading: simply gone.
                Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(name = %name, error = %e, "skipping unreadable manifest");
                    scan.corrupt += 1;
                }
            }
        }
        Ok(scan)
    }

    /// A fingerprint of the manifests tree: every entry's path, size,
    /// modification time and inode, gathered with `stat` calls only. Any
    /// write to the model list (manifests are replaced by rename, which
    /// also touches their directory) changes it, whichever process made
    /// it, so a listing built from the manifests can be cached against it.
    pub fn manifests_fingerprint(&self) -> Result<u64> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        fingerprint_dir(&self.manifests_dir(), 0, &mut hasher)?;
        Ok(hasher.finish())
    }

    /// Names of all files exactly at `manifests/*/*/*/*` whose path parts
    /// form a valid name.
    fn manifest_names(&self) -> Result<Vec<Name>> {
        let mut names = Vec::new();
        let mut parts = Vec::with_capacity(NAME_DEPTH);
        walk_names(&self.manifests_dir(), &mut parts, &mut names)?;
        Ok(names)
    }
}

/// Recursive part of [`Store::manifests_fingerprint`].
fn fingerprint_dir(dir: &Path, depth: usize, hasher: &mut impl Hasher) -> Result<()> {
    let read = match fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut entries: Vec<_> = read.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        path.hash(hasher);
        (meta.len(), meta.modified().ok()).hash(hasher);
        // Timestamps can be coarse (ext4 ticks in milliseconds); a manifest
        // replaced by rename always has a new inode.
        #[cfg(unix)]
        std::os::unix::fs::MetadataExt::ino(&meta).hash(hasher);
        if meta.is_dir() && depth + 1 < NAME_DEPTH {
            fingerprint_dir(&path, depth + 1, hasher)?;
        }
    }
    Ok(())
}

/// Recursive part of [`Store::manifest_names`]: `parts` holds the
/// directory names walked so far.
fn walk_names(dir: &Path, parts: &mut Vec<String>, out: &mut Vec<Name>) -> Result<()> {
    let read = match fs::read_dir(dir) {
        Ok(read) => read,
        // A directory removed concurrently (or a missing root) holds nothing.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for entry in read {
        let path = entry?.path();
        let Some(file_name) = path
            .file_name()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            tracing::warn!(path = %path.display(), "ignoring non-UTF-8 manifest path");
            continue;
        };
        // Follows symlinks, like Ollama's glob + stat.
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        let depth = parts.len() + 1;
        if meta.is_dir() && depth < NAME_DEPTH {
            parts.push(file_name);
            walk_names(&path, parts, out)?;
            parts.pop();
        } else if meta.is_file() && depth == NAME_DEPTH {
            push_name(&path, parts, &file_name, out);
        } else if meta.is_file() && !fsutil::is_temp_name(&file_name) {
            tracing::warn!(path = %path.display(), "ignoring file outside manifests/<host>/<namespace>/<model>/<tag>");
        }
    }
    Ok(())
}

fn push_name(path: &Path, parts: &[String], tag: &str, out: &mut Vec<Name>) {
    let [host, namespace, model] = parts else {
        return;
    };
    match Name::from_parts(host, namespace, model, tag) {
        Ok(name) => out.push(name),
        Err(_) if tag.starts_with('.') => {
            tracing::debug!(path = %path.display(), "ignoring hidden file in manifests")
        }
        Err(_) => tracing::warn!(path = %path.display(), "ignoring manifest with invalid name"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use std::fs::File;
    use std::time::{Duration, SystemTime};

    #[test]
    fn list_enumerates_exactly_four_levels_newest_first() {
        let (_dir, store) = temp_store();
        simple_model(&store, "older", b"1");
        let old = store.manifest_path(&name("older")).unwrap();
        let past = SystemTime::now() - Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(past)
            .unwrap();
        simple_model(&store, "ns/newer:tag", b"2");
        let root = store.manifests_dir();
        // Noise that must be ignored.
        fs::write(root.join("stray"), b"x").unwrap();
        fs::write(root.join("registry.ollama.ai/library/stray"), b"x").unwrap();
        fs::create_dir_all(root.join("registry.ollama.ai/library/older/dir")).unwrap();
        fs::create_dir_all(root.join("h/n/m/t/deeper")).unwrap();
        fs::write(root.join("h/n/m/t/deeper/x"), b"{}").unwrap();
        fs::write(root.join("registry.ollama.ai/library/older/.DS_Store"), b"").unwrap();
        fs::write(
            root.join("registry.ollama.ai/library/older/bad..tag!"),
            b"{}",
        )
        .unwrap();
        fs::create_dir_all(root.join("h/n/corrupt")).unwrap();
        fs::write(root.join("h/n/corrupt/latest"), b"not json").unwrap();

        let names: Vec<_> = store
            .list()
            .unwrap()
            .iter()
            .map(|e| e.name.display_shortest())
            .collect();
        assert_eq!(names, ["ns/newer:tag", "older:latest"]);
        assert_eq!(store.scan_manifests().unwrap().corrupt, 1);
    }

    #[test]
    fn the_fingerprint_changes_with_every_model_list_change_only() {
        let (_dir, store) = temp_store();
        let empty = store.manifests_fingerprint().unwrap();
        assert_eq!(store.manifests_fingerprint().unwrap(), empty, "stable");
        let first = simple_model(&store, "a", b"1");
        let one = store.manifests_fingerprint().unwrap();
        assert_ne!(one, empty, "added");
        store.copy(&name("a"), &name("ns/b:tag")).unwrap();
        let two = store.manifests_fingerprint().unwrap();
        assert_ne!(two, one, "copied into a new namespace");
        // Rewritten in place with other content: same name, new manifest.
        let mut changed = first.clone();
        changed.layers.clear();
        store.write_manifest(&name("a"), &changed).unwrap();
        let rewritten = store.manifests_fingerprint().unwrap();
        assert_ne!(rewritten, two, "rewritten");
        // A blob written is no change to the list.
        layer(&store, crate::manifest::media_type::MODEL, b"unrelated");
        assert_eq!(store.manifests_fingerprint().unwrap(), rewritten);
        store.delete(&name("ns/b:tag")).unwrap();
        assert_ne!(store.manifests_fingerprint().unwrap(), rewritten, "deleted");
    }
}
