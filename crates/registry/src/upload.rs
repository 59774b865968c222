//! Uploading one blob: `HEAD` to skip what the registry has, then an
//! upload session (`POST …/blobs/uploads/`), the content in `PATCH` chunks,
//! and the closing `PUT ?digest=` that makes the registry verify it.

use bytes::Bytes;
use hearth_store::Store;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use tokio::io::AsyncReadExt;

use crate::client::{status_error, upload_location, Registry};
use crate::error::Result;
use crate::manifest::BlobRef;
use crate::progress::{Progress, Reporter, Verb};

/// Bytes per `PATCH`; one chunk is held in memory at a time.
const CHUNK: usize = 16 << 20;

/// Uploads `blob` unless the registry already has it.
pub(crate) async fn push_blob(
    reg: &mut Registry,
    store: &Store,
    blob: &BlobRef,
    progress: &mut Reporter<'_>,
) -> Result<()> {
    let url = reg.blob_url(&blob.digest)?;
    let head = reg.send(|http| http.head(url.clone())).await?;
    // Ollama's registry answers a HEAD of a present blob with a redirect
    // to its CDN (not followed: only the answer matters).
    if head.status().is_success() || head.status().is_redirection() {
        report(progress, blob, blob.size);
        return Ok(());
    }
    if head.status() != StatusCode::NOT_FOUND {
        return Err(status_error("check blob", head).await);
    }
    report(progress, blob, 0);
    let start = reg.url("blobs/uploads/")?;
    let response = reg.send(|http| http.post(start.clone())).await?;
    if !response.status().is_success() {
        return Err(status_error("start upload", response).await);
    }
    let mut next = upload_location(&response)?;
    let mut file = tokio::fs::File::open(store.blob_path(&blob.digest)).await?;
    let mut sent = 0u64;
    loop {
        let chunk = read_chunk(&mut file).await?;
        if chunk.is_empty() {
            break;
        }
        next = patch(reg, next, sent, chunk.clone()).await?;
        sent += chunk.len() as u64;
        report(progress, blob, sent);
    }
    finish(reg, next, blob).await
}

/// Reads up to [`CHUNK`] bytes; empty at the end of the file.
async fn read_chunk(file: &mut tokio::fs::File) -> Result<Bytes> {
    let mut buf = Vec::with_capacity(CHUNK);
    (&mut *file)
        .take(CHUNK as u64)
        .read_to_end(&mut buf)
        .await?;
    Ok(Bytes::from(buf))
}

/// Sends one chunk at `offset`; returns where the upload continues.
async fn patch(reg: &mut Registry, at: Url, offset: u64, chunk: Bytes) -> Result<Url> {
    let end = offset + chunk.len() as u64 - 1;
    let response = reg
        .send(|http| {
            http.patch(at.clone())
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_LENGTH, chunk.len())
                // The distribution spec's form: no `bytes ` prefix.
                .header("Content-Range", format!("{offset}-{end}"))
                .body(chunk.clone())
        })
        .await?;
    if !response.status().is_success() {
        return Err(status_error("upload blob", response).await);
    }
    upload_location(&response)
}

/// Closes the upload; the registry checks the digest of what it got.
async fn finish(reg: &mut Registry, mut at: Url, blob: &BlobRef) -> Result<()> {
    at.query_pairs_mut()
        .append_pair("digest", &blob.digest.to_string());
    let response = reg
        .send(|http| http.put(at.clone()).header(CONTENT_LENGTH, 0))
        .await?;
    if !response.status().is_success() {
        return Err(status_error("finish upload", response).await);
    }
    Ok(())
}

fn report(progress: &mut Reporter<'_>, blob: &BlobRef, completed: u64) {
    progress(Progress::Blob {
        verb: Verb::Pushing,
        digest: blob.digest.clone(),
        total: blob.size,
        completed,
    });
}
