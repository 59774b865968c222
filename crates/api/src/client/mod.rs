//! A typed HTTP client for a Hearth (or Ollama) server.
//!
//! Streaming endpoints return an [`ApiStream`]: requests are sent when the
//! stream is first polled, each NDJSON line becomes one item, and any
//! failure (cannot connect, HTTP error status, or an `{"error": ...}` line
//! mid-stream) is the stream's last item.

mod blob;
mod ndjson;
mod response;
mod stream;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use stream::ApiStream;

use crate::{
    ApiError, ChatRequest, ChatResponse, CopyRequest, CreateRequest, DeleteRequest, EmbedRequest,
    EmbedResponse, EmbeddingRequest, EmbeddingResponse, GenerateRequest, GenerateResponse, Host,
    ListResponse, ProcessResponse, ProgressResponse, PullRequest, PushRequest, ShowRequest,
    ShowResponse, VersionResponse,
};
use response::{check_status, transport_error};

/// The variable holding the API key client commands send.
pub const API_KEY_ENV: &str = "HEARTH_API_KEY";
const USER_AGENT: &str = concat!("hearth/", env!("CARGO_PKG_VERSION"));
const NDJSON: &str = "application/x-ndjson";
const JSON: &str = "application/json";

/// Client for one server. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for `base_url`, e.g. `http://127.0.0.1:11434`.
    pub fn new(base_url: impl Into<String>) -> Client {
        let base = base_url.into().trim_end_matches('/').to_string();
        // No overall timeout: generations and pulls can stream for hours.
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .build()
            .unwrap_or_default();
        Client { base, http }
    }

    /// A client for the server named by `HEARTH_HOST` (default
    /// `http://127.0.0.1:11434`; bind-all addresses become loopback),
    /// sending the API key in `HEARTH_API_KEY` if one is set.
    pub fn from_env() -> Client {
        let client = Client::new(Host::from_env().base_url());
        match crate::env::var(API_KEY_ENV) {
            key if key.is_empty() => client,
            key => client.with_api_key(&key),
        }
    }

    /// Sends `Authorization: Bearer <key>` with every request.
    pub fn with_api_key(mut self, key: &str) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(mut value) = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}")) {
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        self.http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .build()
            .unwrap_or_default();
        self
    }

    /// The server URL this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `HEAD /`: succeeds when the server is up.
    pub async fn heartbeat(&self) -> Result<(), ApiError> {
        self.send(self.http.head(self.url("/"))).await.map(drop)
    }

    /// `GET /api/version`: the server's version string.
    pub async fn version(&self) -> Result<String, ApiError> {
        let response: VersionResponse = self.get_json("/api/version").await?;
        Ok(response.version)
    }

    /// `GET /api/tags`: local models.
    pub async fn list(&self) -> Result<ListResponse, ApiError> {
        self.get_json("/api/tags").await
    }

    /// `GET /api/ps`: loaded models.
    pub async fn ps(&self) -> Result<ProcessResponse, ApiError> {
        self.get_json("/api/ps").await
    }

    /// `POST /api/show`.
    pub async fn show(&self, request: &ShowRequest) -> Result<ShowResponse, ApiError> {
        self.post_json("/api/show", request).await
    }

    /// `POST /api/copy`.
    pub async fn copy(&self, request: &CopyRequest) -> Result<(), ApiError> {
        let builder = self.http.post(self.url("/api/copy")).json(request);
        self.send(builder).await.map(drop)
    }

    /// `DELETE /api/delete`.
    pub async fn delete(&self, request: &DeleteRequest) -> Result<(), ApiError> {
        let builder = self.http.delete(self.url("/api/delete")).json(request);
        self.send(builder).await.map(drop)
    }

    /// `POST /api/embed`.
    pub async fn embed(&self, request: &EmbedRequest) -> Result<EmbedResponse, ApiError> {
        self.post_json("/api/embed", request).await
    }

    /// `POST /api/embeddings` (legacy).
    pub async fn embeddings(
        &self,
        request: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse, ApiError> {
        self.post_json("/api/embeddings", request).await
    }

    /// `POST /api/generate`, streamed (or a single item for loads, unloads
    /// and `stream: false`).
    pub fn generate(&self, request: &GenerateRequest) -> ApiStream<GenerateResponse> {
        self.post_stream("/api/generate", request)
    }

    /// `POST /api/chat`, streamed.
    pub fn chat(&self, request: &ChatRequest) -> ApiStream<ChatResponse> {
        self.post_stream("/api/chat", request)
    }

    /// `POST /api/create` progress.
    pub fn create(&self, request: &CreateRequest) -> ApiStream<ProgressResponse> {
        self.post_stream("/api/create", request)
    }

    /// `POST /api/pull` progress.
    pub fn pull(&self, request: &PullRequest) -> ApiStream<ProgressResponse> {
        self.post_stream("/api/pull", request)
    }

    /// `POST /api/push` progress.
    pub fn push(&self, request: &PushRequest) -> ApiStream<ProgressResponse> {
        self.post_stream("/api/push", request)
    }

    /// `POST /api/generate` with `stream: false`: the whole response.
    pub async fn generate_once(
        &self,
        request: &GenerateRequest,
    ) -> Result<GenerateResponse, ApiError> {
        let request = GenerateRequest {
            stream: Some(false),
            ..request.clone()
        };
        self.post_json("/api/generate", &request).await
    }

    /// `POST /api/chat` with `stream: false`: the whole response.
    pub async fn chat_once(&self, request: &ChatRequest) -> Result<ChatResponse, ApiError> {
        let request = ChatRequest {
            stream: Some(false),
            ..request.clone()
        };
        self.post_json("/api/chat", &request).await
    }

    /// `POST /api/create` with `stream: false`: the final status.
    pub async fn create_once(&self, request: &CreateRequest) -> Result<ProgressResponse, ApiError> {
        let request = CreateRequest {
            stream: Some(false),
            ..request.clone()
        };
        self.post_json("/api/create", &request).await
    }

    /// `POST /api/pull` with `stream: false`: the final status.
    pub async fn pull_once(&self, request: &PullRequest) -> Result<ProgressResponse, ApiError> {
        let request = PullRequest {
            stream: Some(false),
            ..request.clone()
        };
        self.post_json("/api/pull", &request).await
    }

    /// `POST /api/push` with `stream: false`: the final status.
    pub async fn push_once(&self, request: &PushRequest) -> Result<ProgressResponse, ApiError> {
        let request = PushRequest {
            stream: Some(false),
            ..request.clone()
        };
        self.post_json("/api/push", &request).await
    }

    /// Send, mapping transport failures and 4xx/5xx statuses to errors.
    async fn send(&self, builder: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        let response = builder
            .send()
            .await
            .map_err(|e| transport_error(e, &self.base))?;
        check_status(response).await
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let builder = self.http.get(self.url(path)).header("Accept", JSON);
        decode_body(self.send(builder).await?).await
    }

    async fn post_json<B, T>(&self, path: &str, body: &B) -> Result<T, ApiError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let builder = self
            .http
            .post(self.url(path))
            .header("Accept", JSON)
            .json(body);
        decode_body(self.send(builder).await?).await
    }

    fn post_stream<B, T>(&self, path: &str, body: &B) -> ApiStream<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned + Send + 'static,
    {
        let builder = self
            .http
            .post(self.url(path))
            .header("Accept", NDJSON)
            .json(body);
        stream::ndjson(builder, self.base.clone())
    }
}

/// Decode a whole JSON body. Servers may answer `stream: false` requests
/// with an `{"error": ...}` body and status 200 in edge cases, so that is
/// checked too.
async fn decode_body<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ApiError> {
    let body = response
        .bytes()
        .await
        .map_err(|e| ApiError::message(format!("error reading response: {e}")))?;
    ndjson::decode_line(&body)
}

#[cfg(test)]
mod tests;
