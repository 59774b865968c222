//! Downloading one blob into the store's partial file: in ranged parts
//! fetched in parallel, each part's progress persisted next to the file
//! (`sha256-<hex>-partial-<n>`, Ollama's JSON) so that a dropped connection,
//! a cancelled request or a killed server resumes every part where it
//! stopped; stalled parts retried with back-off; the digest verified before
//! the blob becomes visible, and refetched once if it does not match.
//!
//! Concurrent pulls of one blob into one store share a single download
//! (a "flight"): the download runs in its own task and every pull waiting
//! for it observes its progress. The task is cancelled when the last
//! waiter goes away, leaving the resumable state on disk.

use std::collections::HashMap;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use hearth_store::{Store, StoreError};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_RANGE, RANGE};
use reqwest::{Response, StatusCode, Url};
use serde::{Deserialize, Serialize};
use tokio::fs::OpenOptions;
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio::sync::watch;

use crate::client::{status_error, Registry};
use crate::error::{RegistryError, Result};
use crate::manifest::BlobRef;

/// Parts of one blob fetched at once.
const MAX_PARALLEL: usize = 8;
/// Blobs up to this size are one part; bigger ones are cut into about 16
/// parts of at least this size (Ollama: 100 MB), at most [`MAX_PART`].
const MIN_PART: u64 = 64 << 20;
const MAX_PART: u64 = 1 << 30;
/// At most this many parts (and state files), whatever a manifest claims.
const MAX_PARTS: u64 = 1024;
/// Failed attempts in a row (without progress) before a part gives up.
const TRIES: u32 = 6;
/// First back-off between attempts of a part, doubled each time.
const BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How often a part flushes, persists its state and reports.
const REPORT_EVERY: Duration = Duration::from_millis(100);
/// A part that receives nothing for this long is retried (Ollama: 30 s).
pub(crate) const DEFAULT_STALL: Duration = Duration::from_secs(30);
const WRITE_BUFFER: usize = 1 << 20;

/// Everything one blob download needs, owned so it can run in a task of
/// its own.
pub(crate) struct Job {
    pub reg: Arc<Registry>,
    pub store: Store,
    pub blob: BlobRef,
    /// Where the bytes are fetched (the registry's blob URL, or a Hugging
    /// Face file URL); redirects from there are followed.
    pub url: Url,
    /// Fixed part size (`HEARTH_DOWNLOAD_PART_SIZE`), else chosen by size.
    pub part_size: Option<u64>,
    pub stall: Duration,
}

/// The persisted state of one part, in Ollama's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Part {
    #[serde(rename = "N")]
    n: usize,
    #[serde(rename = "Offset")]
    offset: u64,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "Completed")]
    completed: u64,
}

/// What the waiters of a flight see.
#[derive(Clone)]
enum State {
    /// Bytes present so far.
    Running(u64),
    /// Verified and visible, or failed.
    Done(std::result::Result<(), Arc<RegistryError>>),
}

/// One download in progress, shared by every pull that needs the blob.
struct Flight {
    state: watch::Receiver<State>,
    task: tokio::task::AbortHandle,
}

impl Drop for Flight {
    fn drop(&mut self) {
        // The last waiter is gone (a client hung up): stop fetching; the
        // partial file and part states stay for the next pull.
        self.task.abort();
    }
}

/// Downloads in flight, by the blob path they will produce.
static FLIGHTS: LazyLock<Mutex<HashMap<PathBuf, Weak<Flight>>>> = LazyLock::new(Default::default);

/// Fetches and verifies `job.blob`, joining a download of the same blob
/// into the same store if one is running. `report` gets the bytes present.
pub(crate) async fn fetch(job: Job, report: &mut (dyn FnMut(u64) + Send)) -> Result<()> {
    let flight = join(job);
    let mut state = flight.state.clone();
    loop {
        let now = state.borrow_and_update().clone();
        match now {
            State::Running(n) => report(n),
            State::Done(result) => return result.map_err(RegistryError::Shared),
        }
        if state.changed().await.is_err() {
            return Err(RegistryError::Protocol("blob download stopped".into()));
        }
    }
}

/// The running flight for the job's blob, or a new one.
fn join(job: Job) -> Arc<Flight> {
    let key = job.store.blob_path(&job.blob.digest);
    let mut flights = FLIGHTS.lock().unwrap_or_else(|e| e.into_inner());
    flights.retain(|_, f| f.strong_count() > 0);
    if let Some(flight) = flights.get(&key).and_then(Weak::upgrade) {
        // A finished flight answers too; only a failed one is retried.
        if !matches!(*flight.state.borrow(), State::Done(Err(_))) {
            return flight;
        }
    }
    let (tx, rx) = watch::channel(State::Running(0));
    let task = tokio::spawn(async move {
        let result = download_verified(&job, &tx).await;
        tx.send_replace(State::Done(result.map_err(Arc::new)));
    });
    let flight = Arc::new(Flight {
        state: rx,
        task: task.abort_handle(),
    });
    flights.insert(key, Arc::downgrade(&flight));
    flight
}

/// Download, verify, promote; a blob whose hash does not match is fetched
/// once more from scratch (a corrupted local part or a glitch on the way)
/// before the mismatch is reported. A full disk discards the partial
/// download so the store is left as it was.
async fn download_verified(job: &Job, tx: &watch::Sender<State>) -> Result<()> {
    if job.store.has_blob(&job.blob.digest) {
        // Another pull finished it between our check and this flight.
        return Ok(());
    }
    let mut refetched = false;
    loop {
        let result = match download(job, tx).await {
            Ok(()) => promote(job).await,
            Err(e) => Err(e),
        };
        match result {
            Err(RegistryError::Store(e @ StoreError::DigestMismatch { .. })) if !refetched => {
                tracing::warn!(digest = %job.blob.digest, error = %e, "downloaded blob is corrupt; fetching it again");
                discard(job).await;
                tx.send_replace(State::Running(0));
                refetched = true;
            }
            Err(RegistryError::Store(e @ StoreError::DigestMismatch { .. })) => {
                discard(job).await;
                return Err(RegistryError::Store(e));
            }
            Err(e) if e.is_disk_full() => {
                discard(job).await;
                return Err(RegistryError::DiskFull {
                    digest: job.blob.digest.to_string(),
                });
            }
            other => return other,
        }
    }
}

/// Hashes the complete partial file and renames it into place, then drops
/// the part states.
async fn promote(job: &Job) -> Result<()> {
    let store = job.store.clone();
    let digest = job.blob.digest.clone();
    tokio::task::spawn_blocking(move || store.promote_partial(&digest))
        .await
        .map_err(std::io::Error::other)??;
    remove_states(job).await;
    Ok(())
}

/// Deletes the partial file and every part state of the job's blob.
async fn discard(job: &Job) {
    let partial = job.store.partial_path(&job.blob.digest);
    let _ = tokio::fs::remove_file(&partial).await;
    remove_states(job).await;
}

/// Deletes `sha256-<hex>-partial-<n>` files (and their temp files),
/// whatever part layout made them.
async fn remove_states(job: &Job) {
    let prefix = format!("{}-partial-", job.blob.digest.file_name());
    let Ok(mut dir) = tokio::fs::read_dir(job.store.blobs_dir()).await else {
        return;
    };
    while let Ok(Some(entry)) = dir.next_entry().await {
        let name = entry.file_name();
        let is_state = name.to_str().is_some_and(|n| {
            n.strip_prefix(&prefix).is_some_and(|rest| {
                let n = rest.strip_suffix(".tmp").unwrap_or(rest);
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
            })
        });
        if is_state {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}

/// The part size for a blob of `size` bytes: fixed, or about 16 parts;
/// never so small that there would be more than [`MAX_PARTS`].
fn part_size_for(size: u64, fixed: Option<u64>) -> u64 {
    let wanted = match fixed {
        Some(n) if n > 0 => n,
        _ => (size / 16).clamp(MIN_PART, MAX_PART),
    };
    wanted.max(size.div_ceil(MAX_PARTS))
}

/// Fetches every incomplete part into the partial file.
async fn download(job: &Job, tx: &watch::Sender<State>) -> Result<()> {
    let parts = plan(job).await?;
    let done = AtomicU64::new(parts.iter().map(|p| p.completed).sum());
    tx.send_replace(State::Running(done.load(Ordering::SeqCst)));
    let pending = parts.into_iter().filter(|p| p.completed < p.size);
    futures_util::stream::iter(pending)
        .map(|part| fetch_part(job, part, &done, tx))
        .buffer_unordered(MAX_PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// The parts of the job's blob with what each already holds: from their
/// state files when these match the layout, else from the partial file
/// read as a prefix (a single-stream download by an older version). The
/// states are written before the file is sized, so a crash in between
/// never makes zeros look downloaded.
async fn plan(job: &Job) -> Result<Vec<Part>> {
    let size = job.blob.size;
    let partial = job.store.partial_path(&job.blob.digest);
    let part_size = part_size_for(size, job.part_size);
    // Nothing in the store is written through a symlink: one planted where
    // the partial file or a part state belongs is removed, not followed.
    remove_if_symlink(&partial).await?;
    for n in 0..size.div_ceil(part_size) as usize {
        remove_if_symlink(&job.store.partial_part_path(&job.blob.digest, n)).await?;
    }
    let file_len = tokio::fs::metadata(&partial).await.ok().map(|m| m.len());
    let mut parts = Vec::new();
    let mut from_state = false;
    let mut offset = 0;
    while offset < size {
        let n = parts.len();
        let part_len = part_size.min(size - offset);
        let saved = read_state(&job.store.partial_part_path(&job.blob.digest, n)).await;
        let completed = match saved {
            Some(s) if s.n == n && s.offset == offset && s.size == part_len => {
                from_state = true;
                s.completed.min(part_len)
            }
            _ => 0,
        };
        parts.push(Part {
            n,
            offset,
            size: part_len,
            completed,
        });
        offset += part_len;
    }
    for part in &mut parts {
        let held = match file_len {
            None => 0,
            Some(len) if len > size => 0,
            Some(len) => len.saturating_sub(part.offset).min(part.size),
        };
        part.completed = if from_state {
            part.completed.min(held)
        } else {
            held
        };
    }
    for part in &parts {
        write_state(job, part).await?;
    }
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&partial)
        .await?;
    file.set_len(size).await?;
    Ok(parts)
}

async fn remove_if_symlink(path: &Path) -> Result<()> {
    match tokio::fs::symlink_metadata(path).await {
        Ok(meta) if meta.file_type().is_symlink() => {
            tracing::warn!(path = %path.display(), "removing a symlink from the blob store");
            tokio::fs::remove_file(path).await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn read_state(path: &Path) -> Option<Part> {
    let bytes = tokio::fs::read(path).await.ok()?;
    // A torn write (a crash mid-update) does not parse: the part restarts.
    serde_json::from_slice(&bytes).ok()
}

/// Replaces a part's state file atomically (a fresh temp file renamed
/// over it), so a crash leaves the old state or the new one, never a torn
/// one, and a symlink at either name is replaced rather than followed.
async fn write_state(job: &Job, part: &Part) -> Result<()> {
    let path = job.store.partial_part_path(&job.blob.digest, part.n);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let bytes = serde_json::to_vec(part).map_err(std::io::Error::other)?;
    match tokio::fs::remove_file(&tmp).await {
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .await?;
    file.write_all(&bytes).await?;
    drop(file);
    tokio::fs::rename(&tmp, &path).await?;
    Ok(())
}

/// Fetches one part, retrying transient failures with back-off. A try
/// that made progress resets the count, so only a part that keeps failing
/// without receiving anything gives up.
async fn fetch_part(
    job: &Job,
    mut part: Part,
    done: &AtomicU64,
    tx: &watch::Sender<State>,
) -> Result<()> {
    let mut failures = 0;
    loop {
        let before = part.completed;
        match part_attempt(job, &mut part, done, tx).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() => {
                if part.completed > before {
                    failures = 0;
                }
                failures += 1;
                if failures >= TRIES {
                    return Err(e);
                }
                let wait = (BACKOFF * 2u32.pow(failures - 1)).min(MAX_BACKOFF);
                tracing::warn!(digest = %job.blob.digest, part = part.n, error = %e, ?wait, "blob part failed; resuming it");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One ranged request for the rest of a part.
async fn part_attempt(
    job: &Job,
    part: &mut Part,
    done: &AtomicU64,
    tx: &watch::Sender<State>,
) -> Result<()> {
    let start = part.offset + part.completed;
    let end = part.offset + part.size - 1;
    let mut headers = HeaderMap::new();
    let range = HeaderValue::from_str(&format!("bytes={start}-{end}"))
        .map_err(|e| RegistryError::Protocol(e.to_string()))?;
    headers.insert(RANGE, range);
    let response = job.reg.get_following(job.url.clone(), headers).await?;
    let skip = match response.status() {
        StatusCode::PARTIAL_CONTENT => {
            let got = range_start(&response);
            if got != Some(start) {
                return Err(RegistryError::Protocol(format!(
                    "registry answered a request for bytes {start}-{end} with {got:?}"
                )));
            }
            0
        }
        // The server ignored the range: skip what precedes this part.
        StatusCode::OK => start,
        _ => return Err(status_error("pull blob", response).await),
    };
    let partial = job.store.partial_path(&job.blob.digest);
    let mut file = OpenOptions::new().write(true).open(&partial).await?;
    file.seek(SeekFrom::Start(start)).await?;
    let mut sink = PartSink {
        job,
        part,
        out: BufWriter::with_capacity(WRITE_BUFFER, file),
        buffered: 0,
        done,
        tx,
    };
    let result = sink.copy(response, skip).await;
    // What arrived is kept even on failure: the next attempt resumes there.
    let saved = sink.save().await;
    result?;
    saved?;
    if part.completed < part.size {
        return Err(RegistryError::Truncated {
            digest: job.blob.digest.to_string(),
            got: part.offset + part.completed,
            want: part.offset + part.size,
        });
    }
    Ok(())
}

/// Where one part's bytes go: the partial file at the part's offset, its
/// state file, and the flight's progress.
struct PartSink<'a> {
    job: &'a Job,
    part: &'a mut Part,
    out: BufWriter<tokio::fs::File>,
    /// Bytes written to `out` but not yet flushed (not yet `completed`).
    buffered: u64,
    done: &'a AtomicU64,
    tx: &'a watch::Sender<State>,
}

impl PartSink<'_> {
    /// Copies the body into the part, never past its end, flushing and
    /// reporting every [`REPORT_EVERY`] (also while the stream is quiet,
    /// so a stalled or cancelled download keeps what arrived).
    async fn copy(&mut self, response: Response, mut skip: u64) -> Result<()> {
        let mut stream = response.bytes_stream();
        let mut last_byte = Instant::now();
        let mut last_save = Instant::now();
        loop {
            let next = tokio::time::timeout(REPORT_EVERY, stream.next()).await;
            let mut chunk = match next {
                Err(_) => {
                    self.save().await?;
                    last_save = Instant::now();
                    if last_byte.elapsed() >= self.job.stall {
                        return Err(RegistryError::Stalled(self.job.stall.as_secs_f64()));
                    }
                    continue;
                }
                Ok(None) => return Ok(()),
                Ok(Some(chunk)) => chunk?,
            };
            last_byte = Instant::now();
            if skip > 0 {
                let n = skip.min(chunk.len() as u64);
                let _ = chunk.split_to(n as usize);
                skip -= n;
            }
            // Never past the part's end (a `200` body goes on to the end
            // of the blob; a `206` should stop there anyway).
            let room = self.part.size - self.part.completed - self.buffered;
            chunk.truncate(room.min(chunk.len() as u64) as usize);
            self.out.write_all(&chunk).await?;
            self.buffered += chunk.len() as u64;
            if self.part.completed + self.buffered == self.part.size {
                return Ok(());
            }
            if last_save.elapsed() >= REPORT_EVERY {
                self.save().await?;
                last_save = Instant::now();
            }
        }
    }

    /// Flushes, then records the flushed bytes as completed (state file
    /// and progress): a recorded byte is always in the file.
    async fn save(&mut self) -> Result<()> {
        self.out.flush().await?;
        if self.buffered > 0 {
            self.part.completed += self.buffered;
            let total = self.done.fetch_add(self.buffered, Ordering::SeqCst) + self.buffered;
            self.buffered = 0;
            write_state(self.job, self.part).await?;
            self.tx.send_replace(State::Running(total));
        }
        Ok(())
    }
}

/// The first byte of `Content-Range: bytes <start>-<end>/<size>`.
fn range_start(response: &Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

/// Whether an I/O error is a full disk (or quota).
pub(crate) fn is_disk_full_io(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes() {
        assert_eq!(part_size_for(10, None), MIN_PART);
        assert_eq!(part_size_for(16 << 30, None), MAX_PART);
        assert_eq!(part_size_for(3200 << 20, None), 200 << 20);
        assert_eq!(part_size_for(100, Some(30)), 30);
        // A hostile size cannot make millions of parts.
        assert_eq!(part_size_for(1 << 50, Some(1)), (1 << 50) / MAX_PARTS);
        assert_eq!(part_size_for(1 << 50, None), (1 << 50) / MAX_PARTS);
    }

    #[test]
    fn state_is_ollamas_json() {
        let part = Part {
            n: 1,
            offset: 100,
            size: 50,
            completed: 7,
        };
        let json = serde_json::to_string(&part).unwrap();
        assert_eq!(json, r#"{"N":1,"Offset":100,"Size":50,"Completed":7}"#);
    }
}
