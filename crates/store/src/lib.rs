//! `hearth-store`: Hearth's local model store, byte-compatible with
//! Ollama's `~/.ollama/models` layout.
//!
//! It owns model names ([`Name`]), content digests ([`Digest`]), manifest and
//! config JSON ([`Manifest`], [`ConfigV2`]), the on-disk store with atomic
//! writes and garbage collection ([`Store`]), and a header-only GGUF reader
//! ([`GgufInfo`]). It does no networking and knows nothing about HTTP.

mod config;
pub mod digest;
mod error;
mod fsutil;
pub mod gguf;
mod json_util;
pub mod manifest;
pub mod name;
pub mod store;

pub use config::{ConfigV2, Draft};
pub use digest::Digest;
pub use error::{Result, StoreError};
pub use gguf::{GgufArray, GgufInfo, GgufValue, TensorInfo};
pub use manifest::{media_type, Layer, Manifest};
pub use name::Name;
pub use store::blobs::hash_file;
pub use store::{BlobWriter, Model, ModelEntry, PruneReport, Store};
