//! `GET|PUT /hearth/settings`: the server settings a person changes from
//! the UI — LAN exposure, default keep-alive, parallel requests, default
//! context length and extra CORS origins.
//!
//! They are saved to the config file `hearth serve` reads at startup
//! (`$HEARTH_CONFIG`, else `~/.hearth/config.toml`) and apply at the next
//! start: the listener, the CORS list and the scheduler are built once.
//! `GET` shows the saved value where there is one, else the running one,
//! and `pending` names the settings whose saved value is not running yet.
//! The rule of the security layer holds here too: exposing the server on
//! the network is refused while no API key exists.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hearth_api::hearth::{HearthSettings, SettingsUpdate};
use hearth_api::Host;

use crate::body::JsonBody;
use crate::error::ApiError;
use crate::security::KeyFile;
use crate::AppState;

/// Largest `num_parallel` accepted.
const MAX_PARALLEL: u32 = 64;

pub async fn get_settings(State(state): State<AppState>) -> Result<Json<HearthSettings>, ApiError> {
    let path = config_path();
    let table = read_table(&path)?;
    Ok(Json(view(&state, &path, &table)))
}

pub async fn put_settings(
    State(state): State<AppState>,
    JsonBody(update): JsonBody<SettingsUpdate>,
) -> Result<Json<HearthSettings>, ApiError> {
    let path = config_path();
    let mut table = read_table(&path)?;
    if let Some(lan) = update.lan {
        if lan
            && KeyFile::load(&KeyFile::default_path())
                .map(|f| f.keys.is_empty())
                .unwrap_or(true)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "add an API key before exposing the server on the network: anyone who can reach it could use and change your models",
            ));
        }
        let port = Host::from_env().port;
        let host = if lan { "0.0.0.0" } else { "127.0.0.1" };
        table.insert("host".into(), format!("{host}:{port}").into());
    }
    if let Some(v) = update.keep_alive {
        let v = v.trim().to_string();
        let valid = v.parse::<i64>().is_ok() || hearth_api::duration::parse_go_duration(&v).is_ok();
        if !valid {
            return Err(ApiError::bad_request(format!(
                "invalid keep_alive {v:?}: use a duration such as 5m or 1h, or -1 for forever"
            )));
        }
        table.insert("keep_alive".into(), v.into());
    }
    if let Some(n) = update.num_parallel {
        if !(1..=MAX_PARALLEL).contains(&n) {
            return Err(ApiError::bad_request(format!(
                "num_parallel must be between 1 and {MAX_PARALLEL}"
            )));
        }
        table.insert("num_parallel".into(), i64::from(n).into());
    }
    if let Some(n) = update.context_length {
        if !(256..=state.config.max_context).contains(&n) {
            return Err(ApiError::bad_request(format!(
                "context_length must be between 256 and {}",
                state.config.max_context
            )));
        }
        table.insert("context_length".into(), i64::from(n).into());
    }
    if let Some(origins) = update.origins {
        let origins: Vec<String> = origins
            .iter()
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if let Some(bad) = origins.iter().find(|o| !valid_origin(o)) {
            return Err(ApiError::bad_request(format!(
                "invalid origin {bad:?}: use scheme://host[:port], a * port, scheme://* or *"
            )));
        }
        table.insert("origins".into(), origins.join(",").into());
    }
    write_table(&path, &table)?;
    Ok(Json(view(&state, &path, &table)))
}

/// `$HEARTH_CONFIG`, else `~/.hearth/config.toml` (as `hearth serve`).
fn config_path() -> PathBuf {
    if let Some(p) = std::env::var_os("HEARTH_CONFIG").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".hearth/config.toml")
}

fn read_table(path: &Path) -> Result<toml::Table, ApiError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| ApiError::internal(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(toml::Table::new()),
        Err(e) => Err(ApiError::internal(format!("{}: {e}", path.display()))),
    }
}

/// Replaces the file atomically. Only a regular file (or none) is
/// replaced, never a device such as `/dev/null`.
fn write_table(path: &Path, table: &toml::Table) -> Result<(), ApiError> {
    if path.exists() && !path.is_file() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "settings cannot be saved: {} is not a regular file",
                path.display()
            ),
        ));
    }
    let text = toml::to_string(table).map_err(|e| ApiError::internal(e.to_string()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |e: std::io::Error| ApiError::internal(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".config-")
        .tempfile_in(dir)
        .map_err(io)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Saved values where present, else running ones; and which differ.
fn view(state: &AppState, path: &Path, table: &toml::Table) -> HearthSettings {
    let host = Host::from_env();
    let running_listen = host.bind_addr();
    let running_keep_alive = env_or("HEARTH_KEEP_ALIVE", "5m");
    let running_parallel = env_or("HEARTH_NUM_PARALLEL", "1").parse().unwrap_or(1);
    let running_ctx = state.config.context_length;
    let running_origins = list(&hearth_api::env::var("HEARTH_ORIGINS"));

    let mut pending = Vec::new();
    let mut saved = |key: &str, running: String| -> String {
        match table.get(key).map(value_text) {
            Some(v) if v != running => {
                pending.push(key.to_string());
                v
            }
            _ => running,
        }
    };
    let listen = saved("host", running_listen);
    let keep_alive = saved("keep_alive", running_keep_alive);
    let num_parallel = saved("num_parallel", running_parallel.to_string());
    let context_length = saved("context_length", running_ctx.to_string());
    let origins = saved("origins", running_origins.join(","));
    let listen = Host::parse(&listen);
    HearthSettings {
        lan: !crate::security::is_loopback(&listen.host),
        listen: listen.bind_addr(),
        keep_alive,
        num_parallel: num_parallel.parse().unwrap_or(running_parallel),
        context_length: context_length.parse().unwrap_or(running_ctx),
        origins: list(&origins),
        keys_exist: KeyFile::load(&KeyFile::default_path()).is_ok_and(|f| !f.keys.is_empty()),
        config_file: path.display().to_string(),
        pending,
    }
}

fn env_or(name: &str, default: &str) -> String {
    let v = hearth_api::env::var(name);
    if v.is_empty() {
        default.to_string()
    } else {
        v
    }
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A TOML value as the environment variable it becomes.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) => if *b { "1" } else { "0" }.to_string(),
        other => other.to_string(),
    }
}

/// What `HEARTH_ORIGINS` accepts: `*`, or `scheme://host[:port|:*]`, or
/// `scheme://*`, without paths or spaces.
fn valid_origin(o: &str) -> bool {
    if o == "*" {
        return true;
    }
    let Some((scheme, rest)) = o.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !rest.is_empty()
        && !rest.contains(['/', ' ', ','])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(valid_origin("https://app.example"));
        assert!(valid_origin("http://box:*"));
        assert!(valid_origin("vscode-webview://*"));
        assert!(valid_origin("*"));
        assert!(!valid_origin("app.example"));
        assert!(!valid_origin("https://a.example/path"));
        assert!(!valid_origin("https://"));
    }

    #[test]
    fn refuses_to_replace_a_device() {
        let table = toml::Table::new();
        let err = write_table(Path::new("/dev/null"), &table).unwrap_err();
        assert!(format!("{err:?}").contains("not a regular file"));
    }

    #[test]
    fn writes_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let mut table = read_table(&path).unwrap();
        table.insert("keep_alive".into(), "10m".into());
        table.insert("context_length".into(), 8192i64.into());
        write_table(&path, &table).unwrap();
        let back = read_table(&path).unwrap();
        assert_eq!(value_text(&back["keep_alive"]), "10m");
        assert_eq!(value_text(&back["context_length"]), "8192");
    }
}
