//! Small bodies: version, error and status.

use serde::{Deserialize, Serialize};

use super::serde_util::nullable;

/// `GET /api/version` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct VersionResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
}

/// The body of every native error: `{"error": "<message>"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ErrorResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub error: String,
}

/// `GET /api/status` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub cloud: CloudStatus,
}

/// Cloud availability in [`StatusResponse`]; a local server reports
/// `{"disabled":false,"source":"none"}` or `disabled: true`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudStatus {
    #[serde(default, deserialize_with = "nullable")]
    pub disabled: bool,
    /// `none`, `env`, `config` or `both`.
    #[serde(default, deserialize_with = "nullable")]
    pub source: String,
}
