//! Hearth's HTTP server: the Ollama-compatible API over axum.
//!
//! This is the only layer that knows the wire format: it validates requests
//! at the edge, translates them into store, scheduler and engine calls, and
//! maps every error to Ollama's `{"error": "..."}` shape in one place
//! ([`error::ApiError`]). Streams go out as NDJSON through a per-request
//! channel; a client that goes away cancels its generation.
//!
//! The OpenAI-compatible API ([`openai`], under `/v1`) and Anthropic's
//! Messages API ([`anthropic`], `/v1/messages`) translate their requests
//! into native ones, share the native validation and scheduling, and write
//! answers in their own shapes, as SSE when streamed ([`sse`]).

mod answer;
mod anthropic;
mod body;
pub mod config;
mod connections;
mod error;
pub mod fleet;
mod generation;
mod hearth;
mod ids;
pub mod lifecycle;
mod logprobs;
pub mod metrics;
mod model;
mod openai;
mod ops;
mod request;
mod request_id;
mod routes;
pub mod security;
mod show;
mod sse;
mod stack;
mod stream;
mod templates;
mod time;
mod tool_choice;
mod ui;
mod unread_body;
mod vectors;
mod vision;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header::CONTENT_TYPE, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, head, post};
use axum::Router;
use hearth_scheduler::{Scheduler, SchedulerConfig};
use hearth_store::Store;
use tokio::net::TcpListener;

pub use config::ServerConfig;
pub use error::ApiError;
pub use routes::root::API_VERSION;

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServerConfig>,
    pub store: Arc<Store>,
    pub scheduler: Scheduler,
    facts: Arc<templates::FactsCache>,
    /// The `/api/tags` answer while the manifests stay unchanged.
    tags: Arc<routes::models::TagsCache>,
    /// Host check, CORS, keys, limits and timeouts.
    pub security: Arc<security::Settings>,
    /// Loading pinned models, serving or draining, and the requests in
    /// flight.
    pub lifecycle: Arc<lifecycle::Lifecycle>,
    /// This instance's name, sent as `X-Served-By`.
    pub instance: axum::http::HeaderValue,
}

impl AppState {
    /// Opens the store and sets up the scheduler. Runners are started with
    /// `runner`.
    pub fn new(
        config: ServerConfig,
        runner: hearth_engine::runner::RunnerCommand,
    ) -> Result<Self, hearth_store::StoreError> {
        let store = Store::open(&config.models)?;
        // A read-only instance shares the store with the one that writes
        // it, whose downloads in progress must not be pruned.
        if !config.no_prune && !config.read_only {
            match store.prune_stale(Duration::from_secs(3600)) {
                Ok(report)
                    if !report.removed_blobs.is_empty() || !report.removed_leftovers.is_empty() =>
                {
                    tracing::info!(
                        blobs = report.removed_blobs.len(),
                        leftovers = report.removed_leftovers.len(),
                        "pruned unused files from the store"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("store pruning skipped: {e}"),
            }
        }
        let scheduler = Scheduler::new(SchedulerConfig {
            runner,
            default_keep_alive: config.keep_alive,
            max_loaded: config.max_loaded,
            max_queue: config.max_queue,
            num_parallel: config.num_parallel,
            max_memory: config.max_memory,
        });
        let instance = fleet::instance_name(config.instance.as_deref(), 0);
        Ok(Self {
            instance,
            config: Arc::new(config),
            store: Arc::new(store),
            scheduler,
            facts: Arc::default(),
            tags: Arc::default(),
            security: Arc::default(),
            lifecycle: Arc::default(),
        })
    }

    /// Names the instance after the port it listens on, unless
    /// `HEARTH_INSTANCE` named it.
    pub fn with_port(mut self, port: u16) -> Self {
        self.instance = fleet::instance_name(self.config.instance.as_deref(), port);
        self
    }

    /// Replaces the default (loopback, no keys) security settings.
    pub fn with_security(mut self, settings: security::Settings) -> Self {
        self.security = Arc::new(settings);
        self
    }
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/", get(routes::root::root).head(routes::root::root))
        .route(
            "/api/version",
            get(routes::root::version).head(routes::root::version),
        )
        .route(
            "/api/tags",
            get(routes::models::tags).head(routes::models::tags),
        )
        .route("/api/ps", get(routes::models::ps))
        .route("/api/show", post(routes::models::show))
        .route("/api/copy", post(routes::models::copy))
        .route("/api/delete", axum::routing::delete(routes::models::delete))
        .route("/api/generate", post(routes::generate::generate))
        .route("/api/chat", post(routes::chat::chat))
        .route("/api/embed", post(routes::embed::embed))
        .route("/api/embeddings", post(routes::embed::embeddings))
        .route("/api/create", post(routes::create::create))
        .route("/api/pull", post(routes::transfer::pull))
        .route("/api/push", post(routes::transfer::push))
        .route("/v1/chat/completions", post(openai::chat::completions))
        .route("/v1/completions", post(openai::completions::completions))
        .route("/v1/embeddings", post(openai::embeddings::embeddings))
        .route("/v1/models", get(openai::models::list))
        .route("/v1/models/{model}", get(openai::models::retrieve))
        .route("/v1/responses", post(openai::responses::create))
        .route("/v1/messages", post(anthropic::messages))
        .route(
            "/api/blobs/{digest}",
            head(routes::blobs::head)
                .post(routes::blobs::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .merge(ops::routes())
        .merge(hearth::routes())
        .merge(ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body::MAX_JSON_BODY));
    stack::wrap(router, &state).with_state(state)
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(CONTENT_TYPE, "text/plain")],
        "404 page not found",
    )
}

async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(CONTENT_TYPE, "text/plain")],
        "405 method not allowed",
    )
}

/// Serves until `shutdown` resolves and requests in flight have finished
/// (or the shutdown deadline passed), then stops every runner. Pinned
/// models (`preload`) load in the background; `/ready` is 503 until then.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = state.with_port(listener.local_addr()?.port());
    if !state.config.preload.is_empty() {
        state.lifecycle.add_loading(state.config.preload.len());
        tokio::spawn(fleet::preload(state.clone()));
    }
    let app = router(state.clone());
    connections::serve(listener, state, app, shutdown).await
}
