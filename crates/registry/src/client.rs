//! [`Registry`]: one registry repository (`<host>/<namespace>/<model>`)
//! and the HTTP client that talks to it, with bearer tokens obtained from
//! the registry's challenge and sent only back to the registry itself.
//!
//! Redirects are followed by hand ([`Registry::get_following`]), never by
//! the HTTP client: Ollama's registry answers blob GETs with a `307` to a
//! CDN on another host, and the token must not travel there.

use std::sync::Mutex;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use hearth_store::{Digest, Name};
use reqwest::header::{HeaderMap, AUTHORIZATION, LOCATION, USER_AGENT, WWW_AUTHENTICATE};
use reqwest::{redirect, Client, RequestBuilder, Response, StatusCode, Url};

use crate::auth::Challenge;
use crate::error::{RegistryError, Result};
use crate::Options;

/// Error bodies are only quoted in messages; more is never read.
const MAX_ERROR_BODY: usize = 4 << 10;
/// A stall this long without a byte fails the request (it is retried).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Redirect hops followed for one GET (Go's client stops at 10 too).
const MAX_REDIRECTS: usize = 10;

/// A connection to one repository of one registry.
pub(crate) struct Registry {
    http: Client,
    /// `<scheme>://<host>/`.
    base: Url,
    /// `<namespace>/<model>`.
    repository: String,
    /// The bearer token from the last challenge, if any. Behind a lock so
    /// that the parts of a download can share one `Registry`.
    token: Mutex<Option<String>>,
}

impl Registry {
    /// Connects to the registry of `name`: `https` unless the request is
    /// `insecure` (then `http`), and an explicit `http://` needs `insecure`.
    pub(crate) fn new(name: &Name, opts: &Options) -> Result<Registry> {
        name.validate()?;
        if name.scheme().eq_ignore_ascii_case("http") && !opts.insecure {
            return Err(RegistryError::InsecureProtocol);
        }
        let scheme = if opts.insecure { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", name.host))
            .map_err(|e| RegistryError::Protocol(format!("bad registry host: {e}")))?;
        Registry::at(base, name.display_namespace_model())
    }

    /// A repository at an explicit base URL (`<scheme>://<host>[/prefix]/`),
    /// e.g. the Hugging Face endpoint.
    pub(crate) fn at(base: Url, repository: String) -> Result<Registry> {
        let http = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .redirect(redirect::Policy::none())
            .build()?;
        Ok(Registry {
            http,
            base,
            repository,
            token: Mutex::new(None),
        })
    }

    /// `<base>/<path>` (for endpoints outside `/v2/`).
    pub(crate) fn join(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| RegistryError::Protocol(format!("bad registry URL: {e}")))
    }

    /// `/v2/<namespace>/<model>/<rest>` on the registry.
    pub(crate) fn url(&self, rest: &str) -> Result<Url> {
        self.base
            .join(&format!("v2/{}/{rest}", self.repository))
            .map_err(|e| RegistryError::Protocol(format!("bad registry URL: {e}")))
    }

    /// The URL of a blob.
    pub(crate) fn blob_url(&self, digest: &Digest) -> Result<Url> {
        self.url(&format!("blobs/{digest}"))
    }

    /// The registry's `host[:port]`.
    pub(crate) fn host(&self) -> String {
        origin_host(&self.base)
    }

    /// Whether `url` points at the registry itself (same scheme, host and
    /// port), the only place a token may be sent.
    fn is_registry(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme() && origin_host(url) == self.host()
    }

    /// Sends a request built by `make`, answering one bearer challenge: on
    /// a 401 it fetches a token from the realm and sends the request again.
    /// A second 401 is [`RegistryError::Unauthorized`].
    pub(crate) async fn send(&self, make: impl Fn(&Client) -> RequestBuilder) -> Result<Response> {
        let response = self.send_once(&make).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(Challenge::parse)
            .ok_or(RegistryError::Unauthorized)?;
        let token = challenge.fetch_token(&self.http, &self.host()).await?;
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
        let response = self.send_once(&make).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(RegistryError::Unauthorized);
        }
        Ok(response)
    }

    async fn send_once(&self, make: &impl Fn(&Client) -> RequestBuilder) -> Result<Response> {
        let mut request = make(&self.http).header(USER_AGENT, user_agent()).build()?;
        let token = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(token) = token.filter(|_| self.is_registry(request.url())) {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| RegistryError::Protocol("token is not a valid header".into()))?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        Ok(self.http.execute(request).await?)
    }

    /// GETs `url` with `headers`, following redirects by hand: requests to
    /// the registry go through [`Registry::send`] (token, challenge), any
    /// other host gets no credentials at all (a pre-signed CDN URL needs
    /// none), and an `https` registry is never redirected to plain `http`.
    pub(crate) async fn get_following(&self, mut url: Url, headers: HeaderMap) -> Result<Response> {
        for _ in 0..=MAX_REDIRECTS {
            let response = if self.is_registry(&url) {
                let target = url.clone();
                self.send(|http| http.get(target.clone()).headers(headers.clone()))
                    .await?
            } else {
                self.http
                    .get(url.clone())
                    .headers(headers.clone())
                    .header(USER_AGENT, user_agent())
                    .send()
                    .await?
            };
            if !response.status().is_redirection() {
                return Ok(response);
            }
            let Some(location) = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
            else {
                return Ok(response);
            };
            let next = url
                .join(location)
                .map_err(|e| RegistryError::Protocol(format!("bad redirect Location: {e}")))?;
            if !matches!(next.scheme(), "http" | "https")
                || (self.base.scheme() == "https" && next.scheme() != "https")
            {
                return Err(RegistryError::Protocol(format!(
                    "refusing redirect from {} to {}",
                    origin_host(&url),
                    next.scheme()
                )));
            }
            url = next;
        }
        Err(RegistryError::Protocol("too many redirects".into()))
    }
}

/// `host[:port]` of a URL, as the registry name spells it.
pub(crate) fn origin_host(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// Ollama-style `User-Agent`, naming Hearth.
fn user_agent() -> String {
    format!(
        "hearth/{} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

/// Reads a whole body of at most `limit` bytes; a longer one is refused
/// without reading the rest (registries are not trusted to be small).
pub(crate) async fn read_capped(response: Response, limit: usize, what: &str) -> Result<Bytes> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large(what, limit));
    }
    let mut body = BytesMut::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(what, limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn too_large(what: &str, limit: usize) -> RegistryError {
    RegistryError::Protocol(format!("{what} is larger than {limit} bytes"))
}

/// An error for an unexpected status, quoting the start of the body.
pub(crate) async fn status_error(context: &'static str, response: Response) -> RegistryError {
    let status = response.status().as_u16();
    let body = match read_capped_lossy(response).await {
        Ok(text) => text,
        Err(e) => return e,
    };
    RegistryError::Status {
        context,
        status,
        body,
    }
}

/// The first [`MAX_ERROR_BODY`] bytes of a body as text.
async fn read_capped_lossy(response: Response) -> Result<String> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).trim().to_string())
}

/// The `Location` an upload continues at (Docker's own header first),
/// resolved against the URL of the request that returned it.
pub(crate) fn upload_location(response: &Response) -> Result<Url> {
    let headers = response.headers();
    let location = headers
        .get("docker-upload-location")
        .or_else(|| headers.get(reqwest::header::LOCATION))
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| RegistryError::Protocol("upload response has no Location".into()))?;
    response
        .url()
        .join(location)
        .map_err(|e| RegistryError::Protocol(format!("bad upload Location: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_follows_insecure() {
        let name = Name::parse("127.0.0.1:5000/test/tiny:latest").unwrap();
        let reg = Registry::new(
            &name,
            &Options {
                insecure: true,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            reg.url("manifests/latest").unwrap().as_str(),
            "http://127.0.0.1:5000/v2/test/tiny/manifests/latest"
        );
        assert_eq!(reg.host(), "127.0.0.1:5000");
        let reg = Registry::new(&name, &Options::default()).unwrap();
        assert_eq!(reg.base.as_str(), "https://127.0.0.1:5000/");
    }

    #[test]
    fn explicit_http_needs_insecure() {
        let name = Name::parse("http://example.com/ns/m").unwrap();
        assert!(matches!(
            Registry::new(&name, &Options::default()),
            Err(RegistryError::InsecureProtocol)
        ));
        assert!(Registry::new(
            &name,
            &Options {
                insecure: true,
                ..Options::default()
            }
        )
        .is_ok());
    }

    #[test]
    fn tokens_stay_on_the_registry() {
        let name = Name::parse("example.com/ns/m").unwrap();
        let reg = Registry::new(&name, &Options::default()).unwrap();
        assert!(reg.is_registry(&Url::parse("https://EXAMPLE.com/v2/x").unwrap()));
        assert!(!reg.is_registry(&Url::parse("http://example.com/v2/x").unwrap()));
        assert!(!reg.is_registry(&Url::parse("https://example.com:8443/").unwrap()));
        assert!(!reg.is_registry(&Url::parse("https://cdn.example.net/").unwrap()));
    }
}
