//! What one instance of a fleet behind a load balancer or gateway needs
//! beyond a desktop server: its name on every response (`X-Served-By`), a
//! read-only mode for a model store that many instances mount and one
//! writes, and pinned models loaded at startup (`--preload`) before `/ready`
//! says yes.
//!
//! Health, readiness, drain and metrics live in [`crate::ops`],
//! [`crate::lifecycle`] and [`crate::metrics`]; this module adds only what
//! is specific to running many instances.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use hearth_scheduler::KeepAlive;

use crate::error::{response_for, ApiError};
use crate::AppState;

/// The response header naming the instance that answered.
pub const SERVED_BY: HeaderName = HeaderName::from_static("x-served-by");

/// Routes that write the model store, refused in read-only mode.
const WRITE_ROUTES: &[&str] = &[
    "/api/pull",
    "/api/push",
    "/api/create",
    "/api/copy",
    "/api/delete",
    "/api/blobs/{digest}",
];

/// Longest pause between two attempts to load a pinned model.
const PRELOAD_MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The instance name for `X-Served-By`: `HEARTH_INSTANCE` when set, else
/// `hostname:port`. Characters a header cannot carry are replaced.
pub fn instance_name(configured: Option<&str>, port: u16) -> HeaderValue {
    let name = configured.map_or_else(|| format!("{}:{port}", hostname()), str::to_string);
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static("hearth"))
}

/// This machine's host name (`HOSTNAME`, else the kernel's), or `hearth`.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "hearth".to_string())
}

/// Middleware: names this instance on every response, refusals included,
/// so a client behind a balancer can tell which instance answered.
pub async fn served_by(State(name): State<HeaderValue>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response.headers_mut().insert(SERVED_BY, name);
    response
}

/// Middleware (matched routes only, inside the API-key check): in
/// read-only mode, refuses everything that would write the store with 403.
pub async fn read_only(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let writes = WRITE_ROUTES.contains(&route.as_str())
        && !(route == "/api/blobs/{digest}" && req.method() == Method::HEAD);
    if writes {
        return response_for(
            &route,
            ApiError::new(
                StatusCode::FORBIDDEN,
                "this server's model store is read-only (HEARTH_READ_ONLY): pull, push, create, \
                 copy and delete models on the instance that writes the store",
            ),
        );
    }
    next.run(req).await
}

/// Loads each pinned model with `keep_alive` forever, one after the other,
/// marking the server not ready until all are loaded. A model that cannot
/// be loaded (not in the store yet — another instance may still be pulling
/// it into a shared store — or failing to load) is retried with back-off
/// until the server drains; `/ready` stays 503 meanwhile.
pub async fn preload(state: AppState) {
    let names = state.config.preload.clone();
    for name in names {
        let mut backoff = Duration::from_secs(1);
        loop {
            if state.lifecycle.is_draining() {
                return;
            }
            match load(&state, &name).await {
                Ok(()) => {
                    tracing::info!(model = %name, "pinned model loaded");
                    state.lifecycle.loaded_one();
                    break;
                }
                Err(e) => {
                    tracing::warn!(model = %name, retry_in = ?backoff, "cannot load pinned model: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(PRELOAD_MAX_BACKOFF);
                }
            }
        }
    }
}

/// Loads `name` as an empty request would, and pins it.
async fn load(state: &AppState, name: &str) -> Result<(), ApiError> {
    let resolved = crate::model::resolve(state, name, None).await?;
    let lease = state
        .scheduler
        .acquire(&resolved.model_ref, Some(KeepAlive::Forever))
        .await?;
    drop(lease);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_name_uses_the_setting_or_host_and_port() {
        assert_eq!(instance_name(Some("gpu-a"), 1), "gpu-a");
        assert_eq!(instance_name(Some("a b\u{e9}"), 1), "a_b_");
        let default = instance_name(None, 11434);
        assert!(default.to_str().unwrap().ends_with(":11434"), "{default:?}");
    }
}
