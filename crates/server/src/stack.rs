//! The middleware around the routes, in the order that matters.
//!
//! Outermost first: `Connection: close` when the body stays unread
//! (outside everything that may answer early); `X-Served-By`; request id
//! and tracing span; the recent
//! request log (`/hearth/requests`); metrics (so rejected
//! requests are counted too); the request-body idle timeout (outside every
//! reader of the body, so its 408 replaces whatever they answered); the
//! `Host` check; CORS; the drain gate; and,
//! on matched routes only (so unknown paths stay 404), API keys, the rate
//! limit, generation caps and (in read-only mode) the refusal of store
//! writes, after authentication so anonymous callers learn nothing.

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;

use crate::{fleet, hearth, lifecycle, metrics, request_id, security, unread_body, AppState};

/// Wraps `router`, whose routes must all be added already.
pub fn wrap(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let router = if state.config.read_only {
        router.route_layer(from_fn(fleet::read_only))
    } else {
        router
    };
    let router = security::route_layers(router, &state.security)
        .layer(from_fn_with_state(state.lifecycle.clone(), lifecycle::gate));
    security::edge_layers(router, &state.security)
        .layer(from_fn_with_state(
            state.security.body_timeout,
            security::body_timeout::limit,
        ))
        .layer(from_fn(metrics::record))
        .layer(from_fn(hearth::requests::record))
        .layer(from_fn(request_id::trace))
        .layer(from_fn_with_state(state.instance.clone(), fleet::served_by))
        .layer(from_fn(unread_body::close_if_unread))
}
