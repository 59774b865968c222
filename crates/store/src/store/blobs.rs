//! Content-addressed blobs in `blobs/`: their paths, presence checks and
//! reading, and every way of adding one — from bytes, from a local file, or
//! streamed through a [`BlobWriter`] that hashes while it writes and only
//! publishes `sha256-<hex>` once the content is complete and synced.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use tempfile::NamedTempFile;

use super::Store;
use crate::digest::Digest;
use crate::error::{Result, StoreError};
use crate::fsutil;

/// Copy buffer size for hashing and importing files.
const COPY_BUF: usize = 1 << 20;

/// Suffix Ollama uses for in-progress downloads (`sha256-<hex>-partial`).
const PARTIAL_SUFFIX: &str = "-partial";

impl Store {
    /// `blobs/sha256-<hex>`. The digest type guarantees the file name is
    /// plain hex, so the path cannot leave `blobs/`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.file_name())
    }

    /// `blobs/sha256-<hex>-partial`, where a resumable download of `digest`
    /// is assembled (see [`Store::promote_partial`]).
    pub fn partial_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir()
            .join(format!("{}{PARTIAL_SUFFIX}", digest.file_name()))
    }

    /// `blobs/sha256-<hex>-partial-<n>`: the JSON state of part `n` of a
    /// resumable download (Ollama's name for the same file).
    pub fn partial_part_path(&self, digest: &Digest, n: usize) -> PathBuf {
        self.blobs_dir()
            .join(format!("{}{PARTIAL_SUFFIX}-{n}", digest.file_name()))
    }

    /// Whether the blob is present.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// The blob's size in bytes.
    pub fn blob_size(&self, digest: &Digest) -> Result<u64> {
        Ok(self.blob_metadata(digest)?.len())
    }

    /// Opens the blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        File::open(self.blob_path(digest)).map_err(|e| not_found_as_blob(e, digest))
    }

    /// Reads a whole blob into memory. Meant for small blobs (templates,
    /// params, configs); use [`Store::open_blob`] for weights.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        fs::read(self.blob_path(digest)).map_err(|e| not_found_as_blob(e, digest))
    }

    /// Reads a blob only if it is at most `limit` bytes, so a manifest that
    /// points a text layer at gigabytes of weights cannot exhaust memory.
    pub(crate) fn read_small_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let file = self.open_blob(digest)?;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {digest} is larger than {limit} bytes"),
            )
            .into());
        }
        Ok(bytes)
    }

    /// Stores `bytes` as a blob (no-op if already present) and returns its
    /// digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::of_bytes(bytes);
        if self.has_blob(&digest) {
            touch(&self.blob_path(&digest));
            return Ok(digest);
        }
        let mut writer = self.blob_writer()?;
        writer.write_all(bytes)?;
        writer.finish()
    }

    /// Starts streaming a new blob whose digest is learned at the end.
    pub fn blob_writer(&self) -> Result<BlobWriter> {
        let tmp = fsutil::temp_file_in(&self.blobs_dir())?;
        Ok(BlobWriter {
            out: BufWriter::with_capacity(COPY_BUF, tmp),
            hasher: Sha256::new(),
            written: 0,
            blobs_dir: self.blobs_dir(),
        })
    }

    /// Hashes and copies a local file into `blobs/` in one pass.
    pub fn import_file(&self, path: impl AsRef<Path>) -> Result<Digest> {
        let mut src = File::open(path.as_ref())?;
        let mut writer = self.blob_writer()?;
        copy_into(&mut src, |chunk| writer.write_all(chunk))?;
        writer.finish()
    }

    /// Re-hashes a stored blob and fails with
    /// [`StoreError::DigestMismatch`] if its content does not match.
    pub fn verify_blob(&self, digest: &Digest) -> Result<()> {
        let actual = hash_file(self.blob_path(digest)).map_err(|e| blob_not_found(e, digest))?;
        check_match(digest, &actual)
    }

    /// Turns a completed download at [`Store::partial_path`] into the blob:
    /// verifies its hash, syncs it and renames it into place. On a mismatch
    /// the partial file is deleted, since its bytes can never become valid.
    pub fn promote_partial(&self, digest: &Digest) -> Result<()> {
        let partial = self.partial_path(digest);
        let actual = hash_file(&partial).map_err(|e| blob_not_found(e, digest))?;
        if let Err(e) = check_match(digest, &actual) {
            fsutil::remove_file_if_exists(&partial)?;
            return Err(e);
        }
        File::open(&partial)?.sync_all()?;
        fs::rename(&partial, self.blob_path(digest))?;
        fsutil::sync_dir(&self.blobs_dir())?;
        Ok(())
    }

    fn blob_metadata(&self, digest: &Digest) -> Result<fs::Metadata> {
        fs::metadata(self.blob_path(digest)).map_err(|e| not_found_as_blob(e, digest))
    }
}

/// Hashes a file's contents without storing it.
pub fn hash_file(path: impl AsRef<Path>) -> Result<Digest> {
    let mut file = File::open(path.as_ref())?;
    let mut hasher = Sha256::new();
    copy_into(&mut file, |chunk| {
        hasher.update(chunk);
        Ok(())
    })?;
    Ok(Digest::from_hasher(hasher))
}

/// Streams `src` into `sink` in large chunks.
fn copy_into(src: &mut impl Read, mut sink: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let mut buf = vec![0u8; COPY_BUF];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        sink(&buf[..n])?;
    }
}

/// Marks a reused blob as recently written, so that age-based pruning
/// cannot collect it between now and the moment a new manifest refers to
/// it. Best-effort: failing only weakens that protection.
fn touch(path: &Path) {
    let result = File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
    if let Err(e) = result {
        tracing::debug!(path = %path.display(), error = %e, "could not refresh blob mtime");
    }
}

fn check_match(expected: &Digest, actual: &Digest) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(StoreError::DigestMismatch {
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }
}

/// Maps an I/O "not found" to [`StoreError::BlobNotFound`].
fn not_found_as_blob(e: io::Error, digest: &Digest) -> StoreError {
    if e.kind() == io::ErrorKind::NotFound {
        StoreError::BlobNotFound(digest.to_string())
    } else {
        StoreError::Io(e)
    }
}

/// Same as [`not_found_as_blob`] for errors already converted.
fn blob_not_found(e: StoreError, digest: &Digest) -> StoreError {
    match e {
        StoreError::Io(io) => not_found_as_blob(io, digest),
        other => other,
    }
}

/// Streams a new blob into a temp file in `blobs/`, hashing as it goes.
///
/// The temp file is named `.tmp-…`, which can never be mistaken for a
/// complete blob. [`BlobWriter::finish`] syncs it and renames it to
/// `sha256-<hex>`; dropping an unfinished writer deletes it.
pub struct BlobWriter {
    out: BufWriter<NamedTempFile>,
    hasher: Sha256,
    written: u64,
    blobs_dir: PathBuf,
}

impl BlobWriter {
    /// Appends `data` to the blob.
    pub fn write_all(&mut self, data: &[u8]) -> Result<()> {
        // Goes through `Write::write`, which hashes exactly the bytes the
        // file accepted, so even after an error the digest still describes
        // the temp file's content.
        Write::write_all(self, data)?;
        Ok(())
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Completes the blob and returns its real digest. The caller compares
    /// it with any digest it was promised (Ollama keeps the blob under its
    /// real digest even on a mismatch).
    pub fn finish(self) -> Result<Digest> {
        let BlobWriter {
            out,
            hasher,
            written,
            blobs_dir,
        } = self;
        let tmp = out.into_inner().map_err(|e| e.into_error())?;
        let digest = Digest::from_hasher(hasher);
        let dest = blobs_dir.join(digest.file_name());
        // An existing blob of the right size already holds these bytes;
        // replacing it would only cost another fsync of possibly gigabytes.
        // A wrong-sized one is damaged, so the fresh copy replaces it.
        let intact = fs::metadata(&dest).is_ok_and(|m| m.is_file() && m.len() == written);
        if intact {
            touch(&dest);
        } else {
            fsutil::publish(tmp, &dest)?;
        }
        Ok(digest)
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("path", &self.out.get_ref().path())
            .field("written", &self.written)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::temp_store;
    use super::*;

    fn blob_dir_names(store: &Store) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(store.blobs_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn put_bytes_is_content_addressed_and_idempotent() {
        let (_dir, store) = temp_store();
        let d = store.put_bytes(b"hello").unwrap();
        assert_eq!(d, Digest::of_bytes(b"hello"));
        assert_eq!(store.put_bytes(b"hello").unwrap(), d);
        assert!(store.has_blob(&d));
        assert_eq!(store.read_blob(&d).unwrap(), b"hello");
        assert_eq!(store.blob_size(&d).unwrap(), 5);
        assert_eq!(blob_dir_names(&store), vec![d.file_name()]);
        store.verify_blob(&d).unwrap();
    }

    #[test]
    fn writer_streams_and_publishes() {
        let (_dir, store) = temp_store();
        let mut w = store.blob_writer().unwrap();
        w.write_all(b"hel").unwrap();
        Write::write_all(&mut w, b"lo").unwrap();
        assert_eq!(w.bytes_written(), 5);
        // Before finishing, only a temp file exists.
        let names = blob_dir_names(&store);
        assert_eq!(names.len(), 1);
        assert!(fsutil::is_temp_name(&names[0]));
        let d = w.finish().unwrap();
        assert_eq!(d, Digest::of_bytes(b"hello"));
        assert_eq!(blob_dir_names(&store), vec![d.file_name()]);
    }

    #[test]
    fn dropped_writer_leaves_nothing() {
        let (_dir, store) = temp_store();
        let mut w = store.blob_writer().unwrap();
        w.write_all(&[7u8; 4096]).unwrap();
        drop(w);
        assert!(blob_dir_names(&store).is_empty());
    }

    #[test]
    fn finish_repairs_wrong_sized_existing_blob() {
        let (_dir, store) = temp_store();
        let d = Digest::of_bytes(b"good");
        fs::write(store.blob_path(&d), b"bad!!").unwrap();
        let mut w = store.blob_writer().unwrap();
        w.write_all(b"good").unwrap();
        w.finish().unwrap();
        assert_eq!(store.read_blob(&d).unwrap(), b"good");
        assert_eq!(blob_dir_names(&store).len(), 1);
    }

    #[test]
    fn import_file_hashes_and_copies() {
        let (dir, store) = temp_store();
        let src = dir.path().join("src.bin");
        let data: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
        fs::write(&src, &data).unwrap();
        let d = store.import_file(&src).unwrap();
        assert_eq!(d, Digest::of_bytes(&data));
        assert_eq!(hash_file(store.blob_path(&d)).unwrap(), d);
        assert!(src.exists(), "source is copied, not moved");
        assert!(store.import_file(dir.path().join("missing")).is_err());
    }

    #[test]
    fn reusing_a_blob_refreshes_its_mtime() {
        let (_dir, store) = temp_store();
        let d = store.put_bytes(b"reuse").unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        File::options()
            .write(true)
            .open(store.blob_path(&d))
            .unwrap()
            .set_modified(old)
            .unwrap();
        store.put_bytes(b"reuse").unwrap();
        let mtime = fs::metadata(store.blob_path(&d))
            .unwrap()
            .modified()
            .unwrap();
        assert!(mtime > old + std::time::Duration::from_secs(3600));
    }

    #[test]
    fn missing_blob_errors() {
        let (_dir, store) = temp_store();
        let d = Digest::of_bytes(b"absent");
        assert!(!store.has_blob(&d));
        assert!(matches!(
            store.read_blob(&d),
            Err(StoreError::BlobNotFound(_))
        ));
        assert!(matches!(
            store.open_blob(&d),
            Err(StoreError::BlobNotFound(_))
        ));
        assert!(matches!(
            store.blob_size(&d),
            Err(StoreError::BlobNotFound(_))
        ));
        assert!(matches!(
            store.verify_blob(&d),
            Err(StoreError::BlobNotFound(_))
        ));
    }

    #[test]
    fn verify_detects_corruption() {
        let (_dir, store) = temp_store();
        let d = store.put_bytes(b"abc").unwrap();
        fs::write(store.blob_path(&d), b"abd").unwrap();
        let err = store.verify_blob(&d).unwrap_err();
        assert!(err.to_string().starts_with("digest mismatch"), "{err}");
    }

    #[test]
    fn promote_partial_checks_digest() {
        let (_dir, store) = temp_store();
        let d = Digest::of_bytes(b"download");
        fs::write(store.partial_path(&d), b"download").unwrap();
        store.promote_partial(&d).unwrap();
        assert!(store.has_blob(&d));
        assert!(!store.partial_path(&d).exists());

        let e = Digest::of_bytes(b"expected");
        fs::write(store.partial_path(&e), b"corrupted").unwrap();
        assert!(matches!(
            store.promote_partial(&e),
            Err(StoreError::DigestMismatch { .. })
        ));
        assert!(!store.partial_path(&e).exists());
        assert!(!store.has_blob(&e));
    }

    #[test]
    fn read_small_blob_enforces_limit() {
        let (_dir, store) = temp_store();
        let d = store.put_bytes(b"0123456789").unwrap();
        assert_eq!(store.read_small_blob(&d, 10).unwrap().len(), 10);
        assert!(store.read_small_blob(&d, 9).is_err());
    }
}
