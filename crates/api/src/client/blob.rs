//! Blob endpoints: `HEAD` / `POST /api/blobs/:digest` (spec §2.14).

use std::path::Path;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, Stream};
use tokio::io::AsyncReadExt;

use super::response::{check_status, transport_error};
use super::Client;
use crate::ApiError;

/// Read size for uploads: large enough to keep syscalls few on multi-GB
/// GGUF files, small enough not to matter for memory.
const CHUNK: usize = 1 << 20;

impl Client {
    /// Whether the server has blob `digest` (`sha256:<hex>`).
    /// A malformed digest is an error (status 400).
    pub async fn blob_exists(&self, digest: &str) -> Result<bool, ApiError> {
        let response = self
            .http
            .head(self.url(&format!("/api/blobs/{digest}")))
            .send()
            .await
            .map_err(|e| transport_error(e, &self.base))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        check_status(response).await.map(|_| true)
    }

    /// Upload the file at `path` as blob `digest`, streaming it from disk.
    /// The server answers 201 (stored) or 200 (already present); both are
    /// success. A digest mismatch comes back as a 400 error.
    pub async fn upload_blob(&self, digest: &str, path: &Path) -> Result<(), ApiError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| file_error(path, e))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| file_error(path, e))?
            .len();
        let response = self
            .http
            .post(self.url(&format!("/api/blobs/{digest}")))
            .header(reqwest::header::CONTENT_LENGTH, len)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(file_chunks(file)))
            .send()
            .await
            .map_err(|e| transport_error(e, &self.base))?;
        check_status(response).await.map(drop)
    }
}

fn file_error(path: &Path, err: std::io::Error) -> ApiError {
    ApiError::message(format!("{}: {err}", path.display()))
}

fn file_chunks(file: tokio::fs::File) -> impl Stream<Item = std::io::Result<Bytes>> {
    stream::try_unfold(file, |mut file| async move {
        let mut buf = BytesMut::with_capacity(CHUNK);
        let read = file.read_buf(&mut buf).await?;
        Ok((read > 0).then(|| (buf.freeze(), file)))
    })
}
