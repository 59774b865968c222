//! `pull`: manifest, then every blob not yet present, then verification,
//! then the manifest file — in that order, so a model only ever appears
//! once all of its content is in place and verified.

use hearth_store::{Name, Store};

use crate::client::Registry;
use crate::download;
use crate::error::Result;
use crate::manifest::{self, BlobRef};
use crate::progress::{Progress, Reporter, Verb};
use crate::Options;

/// Pulls `name` from its registry into `store`, reporting progress.
///
/// Cancelling the future (dropping it) leaves the partial files of the
/// blobs in flight, and the next pull resumes them.
pub async fn pull(
    store: &Store,
    name: &Name,
    opts: &Options,
    progress: &mut Reporter<'_>,
) -> Result<()> {
    let mut reg = Registry::new(name, opts)?;
    progress(Progress::Status("pulling manifest"));
    let bytes = manifest::fetch(&mut reg, name).await?;
    let blobs = manifest::blobs(&bytes)?;
    let mut fetched = Vec::new();
    for blob in &blobs {
        if store.has_blob(&blob.digest) {
            report(progress, blob, blob.size);
            continue;
        }
        report(progress, blob, 0);
        download::fetch(&mut reg, store, blob, &mut |done| {
            report(progress, blob, done)
        })
        .await?;
        fetched.push(blob.digest.clone());
    }
    progress(Progress::Status("verifying sha256 digest"));
    for digest in fetched {
        blocking(store, move |s| s.promote_partial(&digest)).await?;
    }
    progress(Progress::Status("writing manifest"));
    let name = name.clone();
    blocking(store, move |s| s.write_manifest_bytes(&name, &bytes)).await?;
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
