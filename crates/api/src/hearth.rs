//! Wire types of Hearth's own endpoints under `/hearth/` (hardware, memory
//! fit, settings, API keys, request log), which the web UI uses. They live
//! under their own prefix so they can never collide with a future Ollama
//! endpoint. Every type here, and the Ollama response types the UI reads,
//! derive `ts_rs::TS`; [`typescript`] writes them as one TypeScript file
//! (`ui/src/lib/api.gen.ts`, checked to be current by a unit test).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `GET /hearth/system`: the machine and the model folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SystemInfo {
    pub hostname: String,
    /// E.g. `Debian GNU/Linux 12`.
    pub os: String,
    pub cpu_model: String,
    /// Logical cores.
    pub cpu_cores: u32,
    /// Whole-machine CPU use, 0–100, since the previous sample.
    pub cpu_usage: f32,
    /// Bytes.
    pub memory_total: u64,
    pub memory_used: u64,
    /// Bytes that can be allocated without swapping.
    pub memory_available: u64,
    pub gpus: Vec<GpuInfo>,
    pub disk: DiskInfo,
    /// Seconds since the server started.
    pub uptime_s: u64,
    /// Hearth's version.
    pub version: String,
}

/// One GPU, as reported by its vendor's tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct GpuInfo {
    pub name: String,
    pub vram_total: u64,
    pub vram_used: u64,
}

/// The file system that holds the model store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct DiskInfo {
    /// The model store's root folder.
    pub path: String,
    pub total: u64,
    pub free: u64,
    /// Bytes of the blobs in the store.
    pub models_size: u64,
}

/// Whether a model fits in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Needs at most 80 % of the available memory.
    Fits,
    /// Needs 80–100 % of it: expect swapping or other programs to suffer.
    Tight,
    /// Needs more than there is.
    WontFit,
}

/// `GET /hearth/fit?model=NAME&num_ctx=N[&insecure=true]`: the memory a
/// model needs at a context length, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct FitReport {
    pub model: String,
    pub num_ctx: u32,
    /// `local` (read from the GGUF) or `registry` (from the manifest sizes,
    /// before pulling; the KV cache is then an estimate).
    pub source: String,
    /// Bytes of weights.
    pub weights: u64,
    /// Bytes of KV cache at `num_ctx` (f16 keys and values).
    pub kv_cache: u64,
    /// Compute buffers and runtime, estimated.
    pub overhead: u64,
    pub total: u64,
    /// Memory available now (RAM not in use, plus what loaded models hold).
    pub available: u64,
    pub verdict: Verdict,
}

/// `GET /hearth/settings`, and the answer to `PUT`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct HearthSettings {
    /// The address the server listens on now.
    pub listen: String,
    /// Whether it listens beyond loopback now.
    pub lan: bool,
    /// Default keep-alive, e.g. `5m` (`-1` forever).
    pub keep_alive: String,
    /// Parallel requests per model.
    pub num_parallel: u32,
    /// Default context length.
    pub context_length: u32,
    /// Extra allowed browser origins (`HEARTH_ORIGINS`).
    pub origins: Vec<String>,
    /// Whether any API key exists (LAN exposure needs one).
    pub keys_exist: bool,
    /// The config file changes are saved to.
    pub config_file: String,
    /// Saved values that differ from the running ones: they apply at the
    /// next start of `hearth serve`.
    pub pending: Vec<String>,
}

/// Body of `PUT /hearth/settings`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SettingsUpdate {
    #[ts(optional)]
    pub lan: Option<bool>,
    #[ts(optional)]
    pub keep_alive: Option<String>,
    #[ts(optional)]
    pub num_parallel: Option<u32>,
    #[ts(optional)]
    pub context_length: Option<u32>,
    #[ts(optional)]
    pub origins: Option<Vec<String>>,
}

/// One API key as listed (never the key itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct KeyInfo {
    pub name: String,
    /// `inference` or `admin`.
    pub scope: String,
    pub created_at: String,
}

/// `GET /hearth/keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct KeyList {
    pub keys: Vec<KeyInfo>,
}

/// Body of `POST /hearth/keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct CreateKeyRequest {
    pub name: String,
    /// `inference` (default) or `admin`.
    #[serde(default)]
    #[ts(optional)]
    pub scope: Option<String>,
}

/// Answer to `POST /hearth/keys`: the only time the key is shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct CreatedKey {
    pub name: String,
    pub scope: String,
    pub key: String,
}

/// One finished request in `GET /hearth/requests` (newest first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct RequestLogEntry {
    /// RFC 3339, UTC.
    pub time: String,
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub status: u16,
    /// Time to the response head (a stream continues after it).
    pub duration_ms: f64,
    pub request_id: String,
}

/// `GET /hearth/requests`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct RequestLog {
    pub requests: Vec<RequestLogEntry>,
}

/// The TypeScript declarations of every type the web UI reads, as the
/// committed `ui/src/lib/api.gen.ts`. 64-bit integers become `number`
/// (JSON numbers; byte counts stay far below 2^53).
pub fn typescript() -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        crate::ListResponse::decl(&cfg),
        crate::ListModel::decl(&cfg),
        crate::ModelDetails::decl(&cfg),
        crate::ProcessResponse::decl(&cfg),
        crate::ProcessModel::decl(&cfg),
        crate::ShowResponse::decl(&cfg),
        crate::Tensor::decl(&cfg),
        crate::ProgressResponse::decl(&cfg),
        crate::ChatResponse::decl(&cfg),
        crate::Message::decl(&cfg),
        crate::ToolCall::decl(&cfg),
        crate::ToolCallFunction::decl(&cfg),
        crate::Metrics::decl(&cfg),
        crate::DebugInfo::decl(&cfg),
        crate::Logprob::decl(&cfg),
        crate::TokenLogprob::decl(&cfg),
        crate::VersionResponse::decl(&cfg),
        crate::ErrorResponse::decl(&cfg),
        SystemInfo::decl(&cfg),
        GpuInfo::decl(&cfg),
        DiskInfo::decl(&cfg),
        Verdict::decl(&cfg),
        FitReport::decl(&cfg),
        HearthSettings::decl(&cfg),
        SettingsUpdate::decl(&cfg),
        KeyInfo::decl(&cfg),
        KeyList::decl(&cfg),
        CreateKeyRequest::decl(&cfg),
        CreatedKey::decl(&cfg),
        RequestLogEntry::decl(&cfg),
        RequestLog::decl(&cfg),
        // What `serde_json::Value` fields (`model_info`, arguments) refer to.
        serde_json::Value::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust `hearth-api` crate (crates/api/src/hearth.rs,\n\
         // `typescript()`). Do not edit: run\n\
         //   HEARTH_UPDATE_TS=1 cargo test -p hearth-api ui_types\n\
         // after changing a wire type.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    /// The committed TypeScript types match the Rust ones. With
    /// `HEARTH_UPDATE_TS=1` the file is rewritten instead.
    #[test]
    fn ui_types_are_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/api.gen.ts");
        let want = super::typescript();
        if std::env::var_os("HEARTH_UPDATE_TS").is_some() {
            std::fs::write(&path, &want).expect("write api.gen.ts");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date: run `HEARTH_UPDATE_TS=1 cargo test -p hearth-api ui_types`",
            path.display()
        );
    }
}
