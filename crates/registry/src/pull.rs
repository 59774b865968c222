//! `pull`: manifest, then every blob not yet present, then verification,
//! then the manifest file — in that order, so a model only ever appears
//! once all of its content is in place and verified — and last the blobs
//! the replaced manifest used and nothing uses any more.

use std::sync::Arc;

use hearth_store::{Digest, Name, Store};
use reqwest::Url;

use crate::client::Registry;
use crate::download::{self, Job};
use crate::error::Result;
use crate::hf;
use crate::manifest::{self, BlobRef};
use crate::progress::{Progress, Reporter, Verb};
use crate::Options;

/// Pulls `name` from its registry (or from Hugging Face for `hf.co/…` and
/// `huggingface.co/…` names) into `store`, reporting progress.
///
/// Cancelling the future (dropping it) leaves the partial files of the
/// blobs in flight, and the next pull resumes them.
pub async fn pull(
    store: &Store,
    name: &Name,
    opts: &Options,
    progress: &mut Reporter<'_>,
) -> Result<()> {
    if hf::is_hf_host(&name.host) {
        return hf::pull(store, name, opts, progress).await;
    }
    let reg = Arc::new(Registry::new(name, opts)?);
    progress(Progress::Status("pulling manifest"));
    let bytes = manifest::fetch(&reg, &name.tag).await?;
    install(store, name, opts, &reg, bytes, progress).await
}

/// Fetches the blobs of fetched manifest `bytes` from `reg` and installs
/// the manifest as `name`.
pub(crate) async fn install(
    store: &Store,
    name: &Name,
    opts: &Options,
    reg: &Arc<Registry>,
    bytes: Vec<u8>,
    progress: &mut Reporter<'_>,
) -> Result<()> {
    let blobs = manifest::blobs(&bytes)?;
    let mut sources = Vec::with_capacity(blobs.len());
    for blob in blobs {
        let url = reg.blob_url(&blob.digest)?;
        sources.push((blob, url));
    }
    let fetched = fetch_blobs(store, opts, reg, &sources, progress).await?;
    progress(Progress::Status("verifying sha256 digest"));
    progress(Progress::Status("writing manifest"));
    let target = name.clone();
    let written = blocking(store, move |s| {
        s.write_manifest_bytes_replacing(&target, &bytes)
    })
    .await;
    let replaced = undo_on_error(store, fetched, written).await?;
    remove_replaced(store, opts, replaced, progress).await
}

/// When the manifest could not be written (a full disk, say), deletes the
/// blobs this pull fetched that no manifest references, so the store holds
/// what it held before.
pub(crate) async fn undo_on_error<T>(
    store: &Store,
    fetched: Vec<Digest>,
    result: Result<T>,
) -> Result<T> {
    if result.is_err() && !fetched.is_empty() {
        if let Err(e) = blocking(store, move |s| s.remove_unused(fetched)).await {
            tracing::warn!(error = %e, "could not remove the blobs of a failed pull");
        }
    }
    result
}

/// Downloads each blob that is not present yet (one blob at a time, each
/// in parallel parts) and returns those it fetched. Every blob is verified
/// as its download completes.
pub(crate) async fn fetch_blobs(
    store: &Store,
    opts: &Options,
    reg: &Arc<Registry>,
    sources: &[(BlobRef, Url)],
    progress: &mut Reporter<'_>,
) -> Result<Vec<Digest>> {
    let mut fetched = Vec::new();
    for (blob, url) in sources {
        if store.has_blob(&blob.digest) {
            report(progress, blob, blob.size);
            continue;
        }
        report(progress, blob, 0);
        let job = Job {
            reg: Arc::clone(reg),
            store: store.clone(),
            blob: blob.clone(),
            url: url.clone(),
            part_size: opts.part_size,
            stall: opts.stall_timeout.unwrap_or(download::DEFAULT_STALL),
        };
        download::fetch(job, &mut |done| report(progress, blob, done)).await?;
        // The last byte count may have been overtaken by the end.
        report(progress, blob, blob.size);
        fetched.push(blob.digest.clone());
    }
    Ok(fetched)
}

/// Deletes the blobs a replaced manifest used that no manifest uses now,
/// unless pruning is off (`HEARTH_NOPRUNE`).
pub(crate) async fn remove_replaced(
    store: &Store,
    opts: &Options,
    replaced: Vec<Digest>,
    progress: &mut Reporter<'_>,
) -> Result<()> {
    if replaced.is_empty() || opts.no_prune {
        return Ok(());
    }
    progress(Progress::Status("removing unused layers"));
    let removed = blocking(store, move |s| s.remove_unused(replaced)).await?;
    tracing::info!(
        blobs = removed.len(),
        "removed layers the new manifest no longer uses"
    );
    Ok(())
}

fn report(progress: &mut Reporter<'_>, blob: &BlobRef, completed: u64) {
    progress(Progress::Blob {
        verb: Verb::Pulling,
        digest: blob.digest.clone(),
        total: blob.size,
        completed,
    });
}

/// Runs store work (hashing, syncing, renaming) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Store,
    work: impl FnOnce(&Store) -> hearth_store::Result<T> + Send + 'static,
) -> Result<T> {
    let store = store.clone();
    let joined = tokio::task::spawn_blocking(move || work(&store)).await;
    Ok(joined.map_err(std::io::Error::other)??)
}
