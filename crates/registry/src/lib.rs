//! `hearth-registry`: pulling models from and pushing them to
//! OCI-distribution registries, in the dialect Ollama speaks
//! (`/v2/<namespace>/<model>/manifests/<tag>`, blobs by `sha256:` digest,
//! bearer-token challenges).
//!
//! It is the only crate that talks to registries. It writes into the
//! [`hearth_store::Store`] only through its safe operations: downloads go to
//! the blob's partial file, become visible only after their hash matches
//! ([`hearth_store::Store::promote_partial`]), and the manifest is written
//! last and atomically. Every digest of a fetched manifest is checked to be
//! exactly `sha256:<64 lowercase hex>` before any request or path uses it.
//!
//! Progress is reported through a callback as [`Progress`] values; turning
//! them into wire lines is the server's job.

mod auth;
mod client;
mod download;
mod error;
mod hf;
mod inspect;
mod manifest;
mod progress;
mod pull;
mod push;
mod upload;

#[cfg(test)]
mod tests;

pub use error::{RegistryError, Result};
pub use inspect::{manifest_size, RemoteSize};
pub use progress::{Progress, Verb};
pub use pull::pull;
pub use push::push;

pub use hf::{is_hf_host, DEFAULT_HF_ENDPOINT};

/// How to reach a registry and how to download.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Allow plain HTTP (the `insecure` request field): every request then
    /// goes over `http://`.
    pub insecure: bool,
    /// Base URL that `hf.co/…` and `huggingface.co/…` names are fetched
    /// from (`HEARTH_HF_ENDPOINT`); `None` is [`DEFAULT_HF_ENDPOINT`].
    pub hf_endpoint: Option<String>,
    /// Fixed size of the ranged parts a blob is downloaded in
    /// (`HEARTH_DOWNLOAD_PART_SIZE`); `None` picks about 16 parts of 64 MiB
    /// to 1 GiB, so blobs up to 64 MiB are one part.
    pub part_size: Option<u64>,
    /// How long a part may receive nothing before it is retried
    /// (`HEARTH_DOWNLOAD_STALL`); `None` is 30 s.
    pub stall_timeout: Option<std::time::Duration>,
    /// Keep the blobs a re-pull no longer references (`HEARTH_NOPRUNE`).
    pub no_prune: bool,
}
