//! HTTP handlers, one module per group of endpoints.

pub mod blobs;
pub mod chat;
pub mod create;
pub mod embed;
pub mod generate;
pub mod models;
pub mod root;
pub mod transfer;
