//! `GET /v1/models` and `GET /v1/models/{model}` (spec §2B.4).

use serde::{Deserialize, Serialize};

/// One model as OpenAI describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// The model's name (`llama3.2:latest`).
    pub id: String,
    /// Always `"model"`.
    pub object: String,
    /// The manifest's modification time, Unix seconds.
    pub created: i64,
    /// The name's namespace (`library` for official models).
    pub owned_by: String,
}

/// The list of local models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    /// Always `"list"`.
    pub object: String,
    /// `[]`, never `null`, when there are no models: SDKs iterate it.
    pub data: Vec<Model>,
}
