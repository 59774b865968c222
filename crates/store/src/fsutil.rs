//! Filesystem primitives the store is built on: atomic publication of files
//! (temp file → fsync → rename → fsync directory), the naming convention of
//! temp files, and pruning of empty directories.
//!
//! Every file the store writes goes through [`publish`], so a crash can leave
//! at most a `.tmp-*` file behind, never a half-written file under its final
//! name.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use tempfile::NamedTempFile;

/// Prefix of every temp file the store creates. It cannot be confused with a
/// blob (`sha256-<hex>`) or a valid name part (which must start with
/// `[A-Za-z0-9_]`), so pruning can always recognise leftovers.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Creates an anonymous-looking temp file in `dir`, removed when dropped.
pub(crate) fn temp_file_in(dir: &Path) -> io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        // Readable like files Ollama writes; tempfile defaults to 0600.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir)
}

/// Whether a file name is one of our temp files.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// Flushes `tmp` to stable storage and atomically renames it to `dest`
/// (replacing any existing file), then syncs the directory so the rename
/// itself survives a crash. On failure the temp file is removed.
pub(crate) fn publish(tmp: NamedTempFile, dest: &Path) -> io::Result<()> {
    tmp.as_file().sync_all()?;
    tmp.persist(dest).map_err(|e| e.error)?;
    match dest.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// Writes `bytes` to `dest` atomically, staging the temp file in `tmp_dir`
/// (which must be on the same filesystem as `dest`).
pub(crate) fn write_atomic(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = temp_file_in(tmp_dir)?;
    tmp.write_all(bytes)?;
    publish(tmp, dest)
}

/// Syncs a directory's entries (needed after rename/unlink on POSIX).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened for syncing on other platforms; the
        // rename is still atomic there.
        let _ = dir;
        Ok(())
    }
}

/// Removes a file, treating "already gone" as success.
pub(crate) fn remove_file_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes `start` and its ancestors while they are empty directories,
/// stopping before `stop` (which is never removed).
pub(crate) fn prune_empty_ancestors(start: &Path, stop: &Path) {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) {
            break;
        }
        // remove_dir fails on non-empty directories, which is the signal to stop.
        if fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Removes every empty directory below `root` (depth-first), keeping `root`.
/// Symlinks are never followed.
pub(crate) fn prune_empty_dirs(root: &Path) -> io::Result<()> {
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        prune_empty_dirs(&path)?;
        if fs::read_dir(&path)?.next().is_none() {
            // A concurrent writer may have just created something; losing
            // that race simply leaves the directory in place.
            let _ = fs::remove_dir(&path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        write_atomic(dir.path(), &dest, b"one").unwrap();
        write_atomic(dir.path(), &dest, b"two").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
    }

    #[test]
    fn dropped_temp_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = temp_file_in(dir.path()).unwrap();
        let name = tmp
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(is_temp_name(&name));
        drop(tmp);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn prune_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b/c")).unwrap();
        fs::create_dir_all(root.join("x/y")).unwrap();
        fs::write(root.join("x/y/file"), b"").unwrap();
        prune_empty_ancestors(&root.join("a/b/c"), root);
        assert!(!root.join("a").exists());
        assert!(root.exists());
        fs::create_dir_all(root.join("p/q/r")).unwrap();
        prune_empty_dirs(root).unwrap();
        assert!(!root.join("p").exists());
        assert!(root.join("x/y/file").exists());
    }

    #[test]
    fn remove_missing_file_is_ok() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!remove_file_if_exists(&dir.path().join("nope")).unwrap());
    }
}
