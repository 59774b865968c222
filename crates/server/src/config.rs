//! Server settings, read once from the environment at startup.

use std::path::PathBuf;
use std::time::Duration;

use hearth_scheduler::KeepAlive;

/// Default absolute cap on `num_ctx` (`HEARTH_MAX_CONTEXT`). A model's
/// trained context is a cap already, but models train on up to millions of
/// tokens, and the KV cache grows with the context, so one request asking
/// for the whole window could make a runner allocate tens of gigabytes.
pub const DEFAULT_MAX_CONTEXT: u32 = 131_072;

/// Everything `hearth serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Root of the model store.
    pub models: PathBuf,
    /// Keep-alive for requests that set none (`HEARTH_KEEP_ALIVE`).
    pub keep_alive: KeepAlive,
    /// Default context length (`HEARTH_CONTEXT_LENGTH`, else 4096).
    pub context_length: u32,
    /// Largest context any request may load a model with
    /// (`HEARTH_MAX_CONTEXT`, else [`DEFAULT_MAX_CONTEXT`]).
    pub max_context: u32,
    /// Default CPU threads per runner (`HEARTH_NUM_THREADS`, 0 = auto).
    pub num_thread: u32,
    /// Most models loaded at once (`HEARTH_MAX_LOADED_MODELS`, else 3).
    pub max_loaded: usize,
    /// Skip pruning of stale blobs at startup (`HEARTH_NOPRUNE`).
    pub no_prune: bool,
    /// Flash attention on or off (`HEARTH_FLASH_ATTENTION`); unset = auto.
    pub flash_attention: Option<bool>,
    /// KV cache element type (`HEARTH_KV_CACHE_TYPE`: f16, q8_0, q4_0).
    pub kv_cache_type: Option<String>,
    /// Requests that may wait for a model at once (`HEARTH_MAX_QUEUE`, 512).
    pub max_queue: usize,
    /// Where `hf.co/…` models are pulled from (`HEARTH_HF_ENDPOINT`,
    /// default `https://huggingface.co`).
    pub hf_endpoint: Option<String>,
    /// Fixed download part size in bytes (`HEARTH_DOWNLOAD_PART_SIZE`).
    pub download_part_size: Option<u64>,
    /// Seconds a download part may stall before a retry
    /// (`HEARTH_DOWNLOAD_STALL`, default 30).
    pub download_stall: Option<Duration>,
    /// The model store is shared and written by another instance
    /// (`HEARTH_READ_ONLY`): pull, push, create, copy, delete and blob
    /// uploads are refused, and nothing is pruned at startup.
    pub read_only: bool,
    /// Models loaded at startup and kept loaded (`HEARTH_PRELOAD`,
    /// comma-separated); `/ready` is 503 until they are.
    pub preload: Vec<String>,
    /// This instance's name in `X-Served-By` (`HEARTH_INSTANCE`; unset:
    /// `hostname:port`, filled in once the port is known).
    pub instance: Option<String>,
    /// Requests each model generates at once (`HEARTH_NUM_PARALLEL`);
    /// 0 = four when they fit in free memory, else one.
    pub num_parallel: u32,
    /// Memory all loaded models may use together (`HEARTH_MAX_MEMORY`,
    /// bytes or `512MiB`, `8GB`…); unset = whatever is free.
    pub max_memory: Option<u64>,
    /// How much lower the CPU priority of model runners is than the
    /// server's (`HEARTH_RUNNER_NICE`, a nice increment 0–19, default 5).
    pub runner_nice: i32,
}

/// Runners compute at a lower priority than the server by default: on a
/// busy CPU the API (and the desktop, and the user's other programs) answer
/// at once instead of waiting out a runner's time slice; on an otherwise
/// idle machine the runner still gets every free cycle.
pub const DEFAULT_RUNNER_NICE: i32 = 5;

impl ServerConfig {
    /// Reads the `HEARTH_*` variables, falling back to Ollama's defaults.
    pub fn from_env() -> Self {
        Self {
            models: hearth_store::Store::default_root(),
            keep_alive: env("HEARTH_KEEP_ALIVE")
                .map_or(KeepAlive::default(), |v| keep_alive_from_env(&v)),
            context_length: env_num("HEARTH_CONTEXT_LENGTH")
                .filter(|&n| n > 0)
                .unwrap_or(4096),
            max_context: env_num("HEARTH_MAX_CONTEXT")
                .filter(|&n| n > 0)
                .unwrap_or(DEFAULT_MAX_CONTEXT),
            num_thread: env_num("HEARTH_NUM_THREADS").unwrap_or(0),
            max_loaded: env_num("HEARTH_MAX_LOADED_MODELS")
                .filter(|&n| n > 0)
                .unwrap_or(3) as usize,
            no_prune: env("HEARTH_NOPRUNE").is_some_and(|v| env_bool(&v)),
            flash_attention: env("HEARTH_FLASH_ATTENTION").map(|v| env_bool(&v)),
            kv_cache_type: env("HEARTH_KV_CACHE_TYPE").and_then(|v| kv_cache_type(&v)),
            max_queue: env_num("HEARTH_MAX_QUEUE")
                .filter(|&n| n > 0)
                .unwrap_or(512) as usize,
            hf_endpoint: env("HEARTH_HF_ENDPOINT"),
            download_part_size: env("HEARTH_DOWNLOAD_PART_SIZE")
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&n| n > 0),
            download_stall: env_num("HEARTH_DOWNLOAD_STALL")
                .filter(|&n| n > 0)
                .map(|n| Duration::from_secs(n.into())),
            read_only: env("HEARTH_READ_ONLY").is_some_and(|v| env_bool(&v)),
            preload: env("HEARTH_PRELOAD").map_or_else(Vec::new, |v| list(&v)),
            instance: env("HEARTH_INSTANCE"),
            num_parallel: env_num("HEARTH_NUM_PARALLEL").unwrap_or(0),
            runner_nice: env_num("HEARTH_RUNNER_NICE").map_or(DEFAULT_RUNNER_NICE, |n| n.min(19) as i32),
            max_memory: env("HEARTH_MAX_MEMORY").and_then(|v| {
                let bytes = parse_bytes(&v);
                if bytes.is_none() {
                    tracing::warn!(value = %v, "HEARTH_MAX_MEMORY must be a size such as 8GiB; ignored");
                }
                bytes
            }),
        }
    }
}

/// A size: bytes, or a number with a unit (`K`, `KB`, `KiB`, `M`…, `G`…,
/// `T`…; decimal for `KB`/`MB`/`GB`/`TB`, binary otherwise).
fn parse_bytes(v: &str) -> Option<u64> {
    let v = v.trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "tb" => 1e12,
        _ => return None,
    };
    Some((number * scale) as u64)
}

/// A KV cache type Ollama accepts, or `None` (with a warning) for others.
fn kv_cache_type(v: &str) -> Option<String> {
    let v = v.to_ascii_lowercase();
    if ["f16", "q8_0", "q4_0"].contains(&v.as_str()) {
        Some(v)
    } else {
        tracing::warn!(value = %v, "HEARTH_KV_CACHE_TYPE must be f16, q8_0 or q4_0; using f16");
        None
    }
}

/// A variable's value with whitespace and surrounding quotes stripped.
fn env(name: &str) -> Option<String> {
    let v = std::env::var(name).ok()?;
    let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
    (!v.is_empty()).then_some(v)
}

/// A comma-separated list, entries trimmed, empty ones dropped.
pub fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn env_num(name: &str) -> Option<u32> {
    let v = env(name)?;
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            tracing::warn!(name, value = %v, "invalid number, using the default");
            None
        }
    }
}

/// Go's ParseBool, where anything unparsable counts as true (Ollama quirk).
fn env_bool(v: &str) -> bool {
    !matches!(v, "0" | "f" | "F" | "false" | "FALSE" | "False")
}

/// `HEARTH_KEEP_ALIVE`: a duration, or a bare number of seconds; negative
/// means forever; anything else falls back to five minutes.
fn keep_alive_from_env(v: &str) -> KeepAlive {
    match hearth_api::duration::keep_alive_from_env(v) {
        hearth_api::duration::KeepAlive::Forever => KeepAlive::Forever,
        hearth_api::duration::KeepAlive::For(d) => KeepAlive::For(d),
    }
}

#[allow(dead_code)]
const _DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("1MiB"), Some(1 << 20));
        assert_eq!(parse_bytes("1.5 GiB"), Some(3 << 29));
        assert_eq!(parse_bytes("2GB"), Some(2_000_000_000));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("5 parsecs"), None);
    }
}
