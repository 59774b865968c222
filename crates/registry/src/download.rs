//! Downloading one blob into the store's partial file, resuming with
//! `Range` requests from whatever the file already holds (after a dropped
//! connection, a cancelled request or a restart).
//!
//! The partial file only ever holds a prefix of the response stream: each
//! chunk is appended after the previous one, and a chunk that would run
//! past the size the manifest promised is refused instead of written. The
//! hash is checked later, when the file is promoted to a blob.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hearth_store::Store;
use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::{Response, StatusCode};
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::client::{status_error, Registry};
use crate::error::{RegistryError, Result};
use crate::manifest::BlobRef;

/// Attempts per blob; each one resumes where the last stopped.
const TRIES: u32 = 5;
/// First back-off between attempts, doubled each time.
const BACKOFF: Duration = Duration::from_millis(500);
/// At most one progress report per blob this often.
const REPORT_EVERY: Duration = Duration::from_millis(100);
const WRITE_BUFFER: usize = 1 << 20;

/// Fetches `blob` into its partial file, reporting bytes present through
/// `report`. Transient failures are retried with back-off.
pub(crate) async fn fetch(
    reg: &mut Registry,
    store: &Store,
    blob: &BlobRef,
    report: &mut (dyn FnMut(u64) + Send),
) -> Result<()> {
    let path = store.partial_path(&blob.digest);
    let mut tries = 0;
    loop {
        match attempt(reg, &path, blob, report).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() && tries + 1 < TRIES => {
                let wait = BACKOFF * 2u32.pow(tries);
                tracing::warn!(digest = %blob.digest, error = %e, ?wait, "blob download failed; resuming");
                tries += 1;
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One request: from the current end of the partial file to the end.
async fn attempt(
    reg: &mut Registry,
    path: &Path,
    blob: &BlobRef,
    report: &mut (dyn FnMut(u64) + Send),
) -> Result<()> {
    let have = present_bytes(path, blob.size).await?;
    report(have);
    if have == blob.size {
        return Ok(());
    }
    let url = reg.blob_url(&blob.digest)?;
    let response = reg
        .send(|http| {
            let request = http.get(url.clone());
            if have > 0 {
                request.header(RANGE, format!("bytes={have}-"))
            } else {
                request
            }
        })
        .await?;
    let (file, offset) = open_for(response.status(), &response, path, have).await?;
    let file = match file {
        Some(f) => f,
        None => return Err(status_error("pull blob", response).await),
    };
    copy_body(response, file, offset, blob, report).await
}

/// Bytes already in the partial file (creating it empty if missing); a
/// file longer than the blob cannot be a prefix of it and starts over.
async fn present_bytes(path: &Path, size: u64) -> Result<u64> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    let len = file.metadata().await?.len();
    if len > size {
        file.set_len(0).await?;
        return Ok(0);
    }
    Ok(len)
}

/// Opens the partial file where the response's bytes belong: appended
/// after a `206` that starts at `have`, from scratch after a `200` (the
/// server ignored the range). `None` for any other status.
async fn open_for(
    status: StatusCode,
    response: &Response,
    path: &Path,
    have: u64,
) -> Result<(Option<File>, u64)> {
    match status {
        StatusCode::PARTIAL_CONTENT => {
            let start = range_start(response);
            if start != Some(have) {
                return Err(RegistryError::Protocol(format!(
                    "registry answered a range request for bytes {have}- with {start:?}"
                )));
            }
            let file = OpenOptions::new().append(true).open(path).await?;
            Ok((Some(file), have))
        }
        StatusCode::OK => {
            let file = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .await?;
            Ok((Some(file), 0))
        }
        _ => Ok((None, have)),
    }
}

/// The first byte of `Content-Range: bytes <start>-<end>/<size>`.
fn range_start(response: &Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

/// Appends the body to `file`, never past the blob's size.
async fn copy_body(
    response: Response,
    file: File,
    mut offset: u64,
    blob: &BlobRef,
    report: &mut (dyn FnMut(u64) + Send),
) -> Result<()> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut stream = response.bytes_stream();
    let mut last_report: Option<Instant> = None;
    let result = async {
        loop {
            // A quiet stream is flushed and reported too, so a stalled or
            // cancelled download keeps everything that arrived before it.
            let next = tokio::time::timeout(REPORT_EVERY, stream.next()).await;
            let chunk = match next {
                Err(_) => {
                    out.flush().await?;
                    report(offset);
                    last_report = Some(Instant::now());
                    continue;
                }
                Ok(None) => return Ok(()),
                Ok(Some(chunk)) => chunk?,
            };
            if offset + chunk.len() as u64 > blob.size {
                return Err(RegistryError::Protocol(format!(
                    "blob {} is larger than the {} bytes its manifest says",
                    blob.digest, blob.size
                )));
            }
            out.write_all(&chunk).await?;
            offset += chunk.len() as u64;
            if last_report.is_none_or(|t| t.elapsed() >= REPORT_EVERY) {
                // Flushed before it is reported, so a cancelled pull
                // loses at most the bytes of one reporting interval.
                out.flush().await?;
                report(offset);
                last_report = Some(Instant::now());
            }
        }
    }
    .await;
    // What arrived is kept even on failure: the next attempt resumes there.
    out.flush().await?;
    out.into_inner().sync_data().await?;
    result?;
    report(offset);
    if offset < blob.size {
        return Err(RegistryError::Truncated {
            digest: blob.digest.to_string(),
            got: offset,
            want: blob.size,
        });
    }
    Ok(())
}
