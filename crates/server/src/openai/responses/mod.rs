//! `POST /v1/responses`: the stateless Responses API. `input` (a string or
//! an array of items) and `instructions` become a native chat request; the
//! answer is one `response` object (an assistant message and any function
//! calls in `output`), or a stream of `response.*` events numbered by
//! `sequence_number`.

mod input;
mod output;
mod stream;

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hearth_api::openai::ResponsesRequest;

use super::error::{Json, OpenAiError};
use crate::answer::Answer;
use crate::generation::json_response;
use crate::routes::chat::{self, Prepared};
use crate::{sse, AppState};

pub async fn create(
    State(state): State<AppState>,
    Json(req): Json<ResponsesRequest>,
) -> Result<Response, OpenAiError> {
    let started = Instant::now();
    let native = input::to_native(&req)?;
    let reply = output::Reply::new(&req);
    let job = match chat::prepare(&state, &native, started).await? {
        Prepared::Run(job) => *job,
        // Without messages (refused above) or `_debug_render_only` (never
        // set here) nothing would be generated.
        Prepared::Done(_) | Prepared::Rendered(_) => return Err(input::empty_input().into()),
    };
    let answer = Answer::start(job, req.is_streaming())?;
    if !req.is_streaming() {
        let done = reply.completed(&answer.collect().await?);
        let body = serde_json::to_value(done).expect("serializes");
        return Ok(json_response(StatusCode::OK, &body));
    }
    let (tx, response) = sse::channel();
    tokio::spawn(stream::write(answer, reply, tx));
    Ok(response)
}
