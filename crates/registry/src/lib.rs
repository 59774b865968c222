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
mod manifest;
mod progress;
mod pull;
mod push;
mod upload;

#[cfg(test)]
mod tests;

pub use error::{RegistryError, Result};
pub use progress::{Progress, Verb};
pub use pull::pull;
pub use push::push;

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Allow plain HTTP (the `insecure` request field): every request then
    /// goes over `http://`.
    pub insecure: bool,
}
