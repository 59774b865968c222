//! `push`: every blob the registry lacks, then the manifest bytes exactly
//! as stored, so a later pull writes back the very same file.

use hearth_store::{Name, Store, StoreError};

use crate::client::Registry;
use crate::error::Result;
use crate::manifest;
use crate::progress::{Progress, Reporter};
use crate::pull::blocking;
use crate::upload;
use crate::Options;

/// Pushes the local model `name` to the registry its name points at.
pub async fn push(
    store: &Store,
    name: &Name,
    opts: &Options,
    progress: &mut Reporter<'_>,
) -> Result<()> {
    let mut reg = Registry::new(name, opts)?;
    progress(Progress::Status("retrieving manifest"));
    let wanted = name.clone();
    let bytes = blocking(store, move |s| {
        s.read_manifest_bytes(&wanted)?
            .ok_or_else(|| StoreError::ModelNotFound(wanted.display_shortest()))
    })
    .await;
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            progress(Progress::Status("couldn't retrieve manifest"));
            return Err(e);
        }
    };
    for blob in manifest::blobs(&bytes)? {
        upload::push_blob(&mut reg, store, &blob, progress).await?;
    }
    progress(Progress::Status("pushing manifest"));
    manifest::put(&mut reg, name, bytes).await
}
