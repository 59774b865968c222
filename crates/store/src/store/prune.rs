//! Garbage collection: deleting blobs no manifest references (after a
//! delete or a replacing create), and startup pruning of stale temp/partial
//! leftovers, unreferenced blobs and empty manifest directories.
//!
//! Only files older than a caller-chosen age are considered, so in-flight
//! downloads and creates (whose blobs exist before their manifest) are
//! safe. Whether to prune at all (`OLLAMA_NOPRUNE`-style switches) is the
//! caller's decision.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::Store;
use crate::digest::Digest;
use crate::error::Result;
use crate::fsutil;

/// What [`Store::prune_stale`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// Complete blobs that no manifest referenced.
    pub removed_blobs: Vec<Digest>,
    /// Temp files, partial downloads and other non-blob files.
    pub removed_leftovers: Vec<PathBuf>,
    /// True if a manifest was unreadable, so no blob was judged unused.
    pub skipped_blobs_due_to_corrupt_manifest: bool,
}

/// How a file in `blobs/` is classified.
enum BlobFile {
    /// A complete blob under its canonical name.
    Blob(Digest),
    /// Anything else: `.tmp-*`, `*-partial*`, junk.
    Leftover,
}

fn classify(name: &str) -> BlobFile {
    // `sha256-` plus 64 hex digits of either case is exactly what Ollama
    // treats as a blob name; everything else can only be debris.
    match name.strip_prefix("sha256-").map(Digest::from_hex) {
        Some(Ok(digest)) => BlobFile::Blob(digest),
        _ => BlobFile::Leftover,
    }
}

impl Store {
    /// Every digest referenced by any manifest, or `None` if some manifest
    /// could not be read (then nothing may be considered unreferenced).
    pub(crate) fn referenced_digests(&self) -> Result<Option<HashSet<Digest>>> {
        let scan = self.scan_manifests()?;
        if scan.corrupt > 0 {
            return Ok(None);
        }
        let mut set = HashSet::new();
        for entry in &scan.entries {
            // Malformed digests cannot name a file in blobs/, so skipping
            // them loses nothing.
            set.extend(
                entry
                    .manifest
                    .all_layers()
                    .filter_map(|l| l.parsed_digest().ok()),
            );
        }
        Ok(Some(set))
    }

    /// Deletes those `candidates` no manifest references any more and
    /// returns them. Does nothing if any manifest is unreadable.
    pub(crate) fn remove_unreferenced(
        &self,
        candidates: impl IntoIterator<Item = Digest>,
    ) -> Result<Vec<Digest>> {
        let candidates: HashSet<Digest> = candidates.into_iter().collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let Some(referenced) = self.referenced_digests()? else {
            tracing::warn!("a manifest is unreadable; not removing any blobs");
            return Ok(Vec::new());
        };
        let mut removed = Vec::new();
        for digest in candidates.into_iter().filter(|d| !referenced.contains(d)) {
            match fsutil::remove_file_if_exists(&self.blob_path(&digest)) {
                Ok(true) => removed.push(digest),
                Ok(false) => tracing::debug!(%digest, "unused blob already gone"),
                Err(e) => tracing::warn!(%digest, error = %e, "could not remove unused blob"),
            }
        }
        Ok(removed)
    }

    /// Deletes, among files last modified more than `older_than` ago:
    /// leftovers in `blobs/` (temp files, partial downloads, non-blob
    /// names), stale temp files in `manifests/`, and blobs not referenced by
    /// any manifest. Blob removal is skipped entirely if any manifest is
    /// unreadable, because its references are unknown. Empty manifest
    /// directories are removed too.
    pub fn prune_stale(&self, older_than: Duration) -> Result<PruneReport> {
        let referenced = self.referenced_digests()?;
        let mut report = PruneReport {
            skipped_blobs_due_to_corrupt_manifest: referenced.is_none(),
            ..PruneReport::default()
        };
        if referenced.is_none() {
            tracing::warn!("a manifest is unreadable; keeping all blobs");
        }
        let cutoff = SystemTime::now().checked_sub(older_than);
        for (path, name) in stale_files(&self.blobs_dir(), cutoff)? {
            match classify(&name) {
                BlobFile::Blob(digest) => {
                    let unused = referenced.as_ref().is_some_and(|r| !r.contains(&digest));
                    if unused && remove(&path) {
                        report.removed_blobs.push(digest);
                    }
                }
                BlobFile::Leftover => {
                    if remove(&path) {
                        report.removed_leftovers.push(path);
                    }
                }
            }
        }
        for (path, name) in stale_files(&self.manifests_dir(), cutoff)? {
            if fsutil::is_temp_name(&name) && remove(&path) {
                report.removed_leftovers.push(path);
            }
        }
        fsutil::prune_empty_dirs(&self.manifests_dir())?;
        tracing::info!(
            blobs = report.removed_blobs.len(),
            leftovers = report.removed_leftovers.len(),
            "pruned model store"
        );
        Ok(report)
    }
}

/// Regular files (or symlinks) directly in `dir` last modified before
/// `cutoff`, with their UTF-8 names. No cutoff (an age reaching before the
/// epoch) means nothing is old enough.
fn stale_files(dir: &Path, cutoff: Option<SystemTime>) -> Result<Vec<(PathBuf, String)>> {
    let Some(cutoff) = cutoff else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        // symlink_metadata: judge the entry itself, never its target.
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let old = meta.modified().is_ok_and(|m| m < cutoff);
        if old {
            out.push((entry.path(), name));
        }
    }
    Ok(out)
}

/// Removes a file, logging instead of failing: pruning is best-effort.
fn remove(path: &Path) -> bool {
    match fsutil::remove_file_if_exists(path) {
        Ok(removed) => removed,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not prune file");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use std::fs::File;

    fn age(path: &Path, secs: u64) {
        let t = SystemTime::now() - Duration::from_secs(secs);
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    fn age_all_blobs(store: &Store) {
        for e in fs::read_dir(store.blobs_dir()).unwrap() {
            age(&e.unwrap().path(), 7200);
        }
    }

    #[test]
    fn removes_old_leftovers_and_unreferenced_blobs() {
        let (_dir, store) = temp_store();
        let kept = simple_model(&store, "kept", b"kept");
        let orphan = store.put_bytes(b"orphan").unwrap();
        let partial = store.partial_path(&orphan);
        fs::write(&partial, b"part").unwrap();
        fs::write(
            store
                .blobs_dir()
                .join(format!("{}-partial-0", orphan.file_name())),
            b"{}",
        )
        .unwrap();
        fs::write(store.blobs_dir().join(".tmp-abc"), b"x").unwrap();
        fs::write(store.manifests_dir().join(".tmp-def"), b"x").unwrap();
        fs::create_dir_all(store.manifests_dir().join("h/n/empty")).unwrap();
        age_all_blobs(&store);
        age(&store.manifests_dir().join(".tmp-def"), 7200);
        // Fresh orphan: must survive (could belong to an in-flight create).
        let fresh = store.put_bytes(b"fresh").unwrap();

        let report = store.prune_stale(Duration::from_secs(3600)).unwrap();
        assert_eq!(report.removed_blobs, vec![orphan.clone()]);
        assert_eq!(report.removed_leftovers.len(), 4);
        assert!(!report.skipped_blobs_due_to_corrupt_manifest);
        assert!(!store.has_blob(&orphan));
        assert!(store.has_blob(&fresh));
        for d in kept.digests().unwrap() {
            assert!(store.has_blob(&d));
        }
        assert!(!store.manifests_dir().join("h").exists());
        assert!(store.read_manifest(&name("kept")).unwrap().is_some());
    }

    #[test]
    fn corrupt_manifest_blocks_blob_removal() {
        let (_dir, store) = temp_store();
        let orphan = store.put_bytes(b"orphan").unwrap();
        fs::write(store.blobs_dir().join(".tmp-x"), b"x").unwrap();
        let bad = store.manifests_dir().join("h/n/m");
        fs::create_dir_all(&bad).unwrap();
        fs::write(bad.join("t"), b"{broken").unwrap();
        age_all_blobs(&store);
        let report = store.prune_stale(Duration::from_secs(60)).unwrap();
        assert!(report.skipped_blobs_due_to_corrupt_manifest);
        assert!(report.removed_blobs.is_empty());
        assert!(store.has_blob(&orphan));
        assert_eq!(
            report.removed_leftovers.len(),
            1,
            "leftovers are never referenced"
        );
    }

    #[test]
    fn huge_age_prunes_nothing() {
        let (_dir, store) = temp_store();
        let orphan = store.put_bytes(b"orphan").unwrap();
        let report = store.prune_stale(Duration::MAX).unwrap();
        assert!(report.removed_blobs.is_empty());
        assert!(store.has_blob(&orphan));
    }

    #[test]
    fn classify_names() {
        let d = Digest::of_bytes(b"");
        assert!(matches!(classify(&d.file_name()), BlobFile::Blob(_)));
        assert!(matches!(
            classify(
                &d.file_name()
                    .to_ascii_uppercase()
                    .replace("SHA256", "sha256")
            ),
            BlobFile::Blob(_)
        ));
        for s in [
            ".tmp-1",
            "sha256-abc",
            &format!("{}-partial", d.file_name()),
            "README",
        ] {
            assert!(matches!(classify(s), BlobFile::Leftover), "{s}");
        }
    }
}
