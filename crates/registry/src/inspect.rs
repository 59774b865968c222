//! `manifest_size`: what a pull would download, from the manifest alone,
//! so a client can judge whether a model fits before pulling it.

use hearth_store::Name;

use crate::client::Registry;
use crate::error::Result;
use crate::manifest;
use crate::Options;

/// Sizes of a remote model's blobs, from its manifest (nothing else is
/// downloaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteSize {
    /// Bytes of the largest layer: the weights, in every model Ollama's
    /// registry serves.
    pub weights: u64,
    /// Bytes of every distinct blob.
    pub total: u64,
}

/// Fetches `name`'s manifest and sums its blobs' sizes.
pub async fn manifest_size(name: &Name, opts: &Options) -> Result<RemoteSize> {
    if crate::hf::is_hf_host(&name.host) {
        return Err(crate::RegistryError::Protocol(
            "sizes before a pull are known for registry models only, not hf.co".into(),
        ));
    }
    let reg = Registry::new(name, opts)?;
    let bytes = manifest::fetch(&reg, &name.tag).await?;
    let blobs = manifest::blobs(&bytes)?;
    Ok(RemoteSize {
        weights: blobs.iter().map(|b| b.size).max().unwrap_or(0),
        total: blobs.iter().map(|b| b.size).sum(),
    })
}
