//! A response body read as a stream of NDJSON values.

use futures_util::stream::{self, BoxStream, StreamExt};
use serde::de::DeserializeOwned;

use super::ndjson::{decode_line, is_blank, LineBuffer};
use super::response::{check_status, error_chain, transport_error};
use crate::ApiError;

/// A stream of decoded response lines. It ends after the first error.
pub type ApiStream<T> = BoxStream<'static, Result<T, ApiError>>;

enum State {
    /// Request not sent yet (sending happens on first poll).
    Start {
        request: reqwest::RequestBuilder,
        base_url: String,
    },
    Reading {
        response: reqwest::Response,
        lines: LineBuffer,
    },
    Done,
}

/// Send `request` when first polled and yield one `T` per response line.
/// Connection and HTTP-status errors arrive as the first (and only) item.
pub(crate) fn ndjson<T>(request: reqwest::RequestBuilder, base_url: String) -> ApiStream<T>
where
    T: DeserializeOwned + Send + 'static,
{
    stream::unfold(State::Start { request, base_url }, step::<T>).boxed()
}

async fn step<T: DeserializeOwned>(state: State) -> Option<(Result<T, ApiError>, State)> {
    match state {
        State::Start { request, base_url } => match open(request, &base_url).await {
            Ok(response) => read_next(response, LineBuffer::default()).await,
            Err(err) => Some((Err(err), State::Done)),
        },
        State::Reading { response, lines } => read_next(response, lines).await,
        State::Done => None,
    }
}

async fn open(
    request: reqwest::RequestBuilder,
    base_url: &str,
) -> Result<reqwest::Response, ApiError> {
    let response = request
        .send()
        .await
        .map_err(|e| transport_error(e, base_url))?;
    check_status(response).await
}

/// Pull chunks until a complete non-blank line is available, then decode it.
async fn read_next<T: DeserializeOwned>(
    mut response: reqwest::Response,
    mut lines: LineBuffer,
) -> Option<(Result<T, ApiError>, State)> {
    loop {
        if let Some(line) = lines.next_line() {
            if is_blank(&line) {
                continue;
            }
            let item = decode_line(&line);
            let next = if item.is_ok() {
                State::Reading { response, lines }
            } else {
                State::Done
            };
            return Some((item, next));
        }
        match response.chunk().await {
            Ok(Some(chunk)) => lines.push(&chunk),
            Ok(None) => return lines.finish().map(|line| (decode_line(&line), State::Done)),
            Err(err) => {
                let message = format!("error reading response: {}", error_chain(&err));
                return Some((Err(ApiError::message(message)), State::Done));
            }
        }
    }
}
