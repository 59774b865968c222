//! Hearth's own endpoints under `/hearth/`, for the web UI and the desktop
//! app: the machine (`system`), memory fit (`fit`), settings, API keys and
//! the recent request log. The prefix keeps them clear of any future Ollama
//! endpoint; the key middleware requires an `admin` key for all of them
//! once keys exist (`security::auth::required_scope`).

mod fit;
mod keys;
pub mod requests;
mod settings;
mod system;

use axum::routing::{delete, get};
use axum::Router;

use crate::AppState;

/// The `/hearth/*` routes, to merge into the API router.
pub fn routes() -> Router<AppState> {
    system::mark_start();
    Router::new()
        .route("/hearth/system", get(system::system))
        .route("/hearth/fit", get(fit::fit))
        .route(
            "/hearth/settings",
            get(settings::get_settings).put(settings::put_settings),
        )
        .route("/hearth/keys", get(keys::list).post(keys::create))
        .route("/hearth/keys/{name}", delete(keys::revoke))
        .route("/hearth/requests", get(requests::list))
}
