//! The server's optional config file.
//!
//! `$HEARTH_CONFIG`, else `~/.hearth/config.toml`, holds the same settings
//! as the `HEARTH_*` environment variables, keyed by the variable's name
//! lower-cased without the prefix (`keep_alive = "10m"`,
//! `context_length = 8192`). A variable set in the environment wins. The
//! file is applied by setting the missing variables before the server
//! starts any thread, so every part of the server reads one source.

use std::path::PathBuf;

/// The `HEARTH_*` settings of `hearth serve`, with what they do.
pub const SETTINGS: &[(&str, &str)] = &[
    (
        "HEARTH_HOST",
        "address to listen on (default 127.0.0.1:11434)",
    ),
    (
        "HEARTH_MODELS",
        "the model store (default ~/.hearth/models)",
    ),
    (
        "HEARTH_KEEP_ALIVE",
        "how long idle models stay loaded (default 5m; negative = forever)",
    ),
    (
        "HEARTH_CONTEXT_LENGTH",
        "default context length (default 4096)",
    ),
    (
        "HEARTH_MAX_CONTEXT",
        "largest context a request may load a model with (default 131072)",
    ),
    (
        "HEARTH_NUM_THREADS",
        "CPU threads per model (default: one per core, up to 8)",
    ),
    (
        "HEARTH_NUM_PARALLEL",
        "parallel requests per model (default: 4 when they fit in memory, else 1)",
    ),
    (
        "HEARTH_RUNNER_NICE",
        "how much lower model runners' CPU priority is than the server's, 0-19 (default 5)",
    ),
    (
        "HEARTH_MAX_LOADED_MODELS",
        "models loaded at once (default 3)",
    ),
    (
        "HEARTH_MAX_QUEUE",
        "requests waiting for a model before 503 (default 512)",
    ),
    (
        "HEARTH_FLASH_ATTENTION",
        "force flash attention on (1) or off (0); default auto",
    ),
    (
        "HEARTH_KV_CACHE_TYPE",
        "KV cache type: f16 (default), q8_0, q4_0",
    ),
    (
        "HEARTH_NOPRUNE",
        "do not remove unused blobs (at startup and after a re-pull)",
    ),
    (
        "HEARTH_HF_ENDPOINT",
        "where hf.co/... models are pulled from (default https://huggingface.co)",
    ),
    (
        "HEARTH_DOWNLOAD_PART_SIZE",
        "bytes per parallel download part (default: ~16 parts of 64 MiB-1 GiB)",
    ),
    (
        "HEARTH_DOWNLOAD_STALL",
        "seconds without data before a download part is retried (default 30)",
    ),
    (
        "HEARTH_ORIGINS",
        "extra allowed CORS origins, comma-separated",
    ),
    (
        "HEARTH_ALLOWED_HOSTS",
        "extra allowed Host header names, comma-separated",
    ),
    ("HEARTH_HOME", "where keys.json lives (default ~/.hearth)"),
    (
        "HEARTH_RATE_LIMIT",
        "requests per minute per key or client (default unlimited)",
    ),
    (
        "HEARTH_HEADER_TIMEOUT",
        "seconds to receive request headers (default 10)",
    ),
    (
        "HEARTH_BODY_TIMEOUT",
        "seconds a request body may pause between chunks (default 60)",
    ),
    (
        "HEARTH_MAX_CONNECTIONS",
        "open connections at most (default 512)",
    ),
    (
        "HEARTH_MAX_PREDICT",
        "largest num_predict accepted (default 32768)",
    ),
    (
        "HEARTH_SHUTDOWN_TIMEOUT",
        "seconds to finish requests on SIGTERM (default 10)",
    ),
    (
        "HEARTH_READ_ONLY",
        "shared model store written elsewhere: refuse pull/push/create/copy/delete",
    ),
    (
        "HEARTH_PRELOAD",
        "models to load at startup and keep loaded (comma-separated)",
    ),
    (
        "HEARTH_PUBLIC_METRICS",
        "/metrics needs no API key (for gateway metrics scrapers)",
    ),
    (
        "HEARTH_INSTANCE",
        "instance name sent as X-Served-By (default hostname:port)",
    ),
    ("HEARTH_DEBUG", "verbose logs"),
    (
        "HEARTH_LOG_DIR",
        "also write logs to daily files here (7 kept)",
    ),
    (
        "HEARTH_CONFIG",
        "this config file (default ~/.hearth/config.toml)",
    ),
];

/// The help text listing [`SETTINGS`].
pub fn help() -> String {
    let mut out = String::from("Environment variables (also keys of ~/.hearth/config.toml, lower-cased without HEARTH_):\n");
    for (name, what) in SETTINGS {
        out.push_str(&format!("  {name:<26}{what}\n"));
    }
    out
}

/// Reads the config file, if there is one, and sets the variables it
/// names that the environment does not. Call before any thread starts.
pub fn apply() -> Result<Option<PathBuf>, String> {
    let explicit = std::env::var_os("HEARTH_CONFIG").map(PathBuf::from);
    let path = match explicit.clone() {
        Some(p) => p,
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".hearth/config.toml"),
            None => return Ok(None),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            return Ok(None)
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    for (name, value) in parse(&text).map_err(|e| format!("{}: {e}", path.display()))? {
        if std::env::var_os(&name).is_none() {
            // Sound: called before the runtime or any other thread exists.
            std::env::set_var(&name, value);
        }
    }
    Ok(Some(path))
}

/// `(HEARTH_NAME, value)` pairs from the file's text.
fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (key, value) in table {
        let name = format!("HEARTH_{}", key.to_ascii_uppercase());
        if !SETTINGS.iter().any(|(known, _)| *known == name) {
            return Err(format!("unknown setting {key:?}"));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => if b { "1" } else { "0" }.to_string(),
            other => return Err(format!("{key}: unsupported value {other:?}")),
        };
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_variables() {
        let mut got =
            parse("keep_alive = \"10m\"\ncontext_length = 8192\nnoprune = true\n").unwrap();
        // The order is the table's (sorted without toml's preserve_order);
        // it does not matter, each pair sets its own variable.
        got.sort();
        assert_eq!(
            got,
            vec![
                ("HEARTH_CONTEXT_LENGTH".to_string(), "8192".to_string()),
                ("HEARTH_KEEP_ALIVE".to_string(), "10m".to_string()),
                ("HEARTH_NOPRUNE".to_string(), "1".to_string()),
            ]
        );
    }

    #[test]
    fn unknown_keys_and_bad_syntax_are_errors() {
        assert!(parse("colour = \"red\"")
            .unwrap_err()
            .contains("unknown setting"));
        assert!(parse("host = ").is_err());
    }
}
