//! The middleware around the routes, in the order that matters.
//!
//! Outermost first: request id and tracing span; metrics (so rejected
//! requests are counted too); the request-body idle timeout (outside every
//! reader of the body, so its 408 replaces whatever they answered); the
//! `Host` check; CORS; the drain gate; and,
//! on matched routes only (so unknown paths stay 404), API keys, the rate
//! limit and generation caps.

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;

use crate::{lifecycle, metrics, request_id, security, AppState};

/// Wraps `router`, whose routes must all be added already.
pub fn wrap(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let router = security::route_layers(router, &state.security)
        .layer(from_fn_with_state(state.lifecycle.clone(), lifecycle::gate));
    security::edge_layers(router, &state.security)
        .layer(from_fn_with_state(
            state.security.body_timeout,
            security::body_timeout::limit,
        ))
        .layer(from_fn(metrics::record))
        .layer(from_fn(request_id::trace))
}
