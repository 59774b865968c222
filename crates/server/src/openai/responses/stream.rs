//! The events of a streamed response: `response.created` and
//! `response.in_progress`, then each output item opened, filled and closed
//! in the order the answer produces it (a message's text deltas, a function
//! call's arguments), then `response.completed` — or `response.failed`.
//! Every event carries the next `sequence_number`.

use hearth_api::openai::{OutputItem, ResponseEvent, ResponseStreamEvent};
use hearth_api::ToolCall;
use serde_json::json;

use super::output::{arguments, function_call, function_call_id, message, output_text, Reply};
use crate::answer::{Answer, Ending, Piece};
use crate::error::ApiError;
use crate::ids;
use crate::sse::SseSender;

/// Streams `answer` as events until it ends, fails or the client leaves
/// (dropping `answer` then cancels the generation).
pub async fn write(mut answer: Answer, reply: Reply, tx: SseSender) {
    let mut s = Writer {
        tx,
        next: 0,
        reply,
        items: Vec::new(),
        open: None,
    };
    if !s.start().await {
        return;
    }
    loop {
        let going = match answer.next().await {
            Some(Ok(Piece::Text(text))) => s.text(text).await,
            Some(Ok(Piece::ToolCalls(calls))) => s.calls(&calls).await,
            Some(Ok(Piece::End(ending))) => return s.end(&ending).await,
            Some(Err(e)) => return s.fail(&e).await,
            None => return s.fail(&ApiError::internal("generation ended early")).await,
        };
        if !going {
            return;
        }
    }
}

/// The message item being written.
struct OpenMessage {
    id: String,
    index: u32,
    text: String,
}

struct Writer {
    tx: SseSender,
    next: u64,
    reply: Reply,
    /// Finished output items, in order.
    items: Vec<OutputItem>,
    open: Option<OpenMessage>,
}

impl Writer {
    /// Sends one numbered event; `false` means the client is gone.
    async fn send(&mut self, event: ResponseEvent) -> bool {
        let numbered = ResponseStreamEvent {
            sequence_number: self.next,
            event,
        };
        self.next += 1;
        self.tx.event(numbered.event.kind(), &numbered).await
    }

    async fn start(&mut self) -> bool {
        let response = Box::new(self.reply.object("in_progress", Vec::new(), None));
        self.send(ResponseEvent::Created {
            response: response.clone(),
        })
        .await
            && self.send(ResponseEvent::InProgress { response }).await
    }

    /// Adds text to the open message, opening one first if needed.
    async fn text(&mut self, delta: String) -> bool {
        if self.open.is_none() && !self.open_message().await {
            return false;
        }
        let open = self.open.as_mut().expect("opened above");
        open.text.push_str(&delta);
        let event = ResponseEvent::OutputTextDelta {
            item_id: open.id.clone(),
            output_index: open.index,
            content_index: 0,
            delta,
            logprobs: Vec::new(),
        };
        self.send(event).await
    }

    async fn open_message(&mut self) -> bool {
        let open = OpenMessage {
            id: ids::new("msg_"),
            index: self.items.len() as u32,
            text: String::new(),
        };
        let added = ResponseEvent::OutputItemAdded {
            output_index: open.index,
            item: message(&open.id, "in_progress", ""),
        };
        let part = ResponseEvent::ContentPartAdded {
            item_id: open.id.clone(),
            output_index: open.index,
            content_index: 0,
            part: output_text(""),
        };
        self.open = Some(open);
        self.send(added).await && self.send(part).await
    }

    async fn close_message(&mut self) -> bool {
        let Some(open) = self.open.take() else {
            return true;
        };
        let item = message(&open.id, "completed", &open.text);
        let events = [
            ResponseEvent::OutputTextDone {
                item_id: open.id.clone(),
                output_index: open.index,
                content_index: 0,
                text: open.text.clone(),
                logprobs: Vec::new(),
            },
            ResponseEvent::ContentPartDone {
                item_id: open.id.clone(),
                output_index: open.index,
                content_index: 0,
                part: output_text(&open.text),
            },
            ResponseEvent::OutputItemDone {
                output_index: open.index,
                item: item.clone(),
            },
        ];
        self.items.push(item);
        self.send_all(events).await
    }

    /// Each call becomes a `function_call` item, its arguments sent whole.
    async fn calls(&mut self, calls: &[ToolCall]) -> bool {
        if !self.close_message().await {
            return false;
        }
        for call in calls {
            let (id, arguments) = (function_call_id(call), arguments(call));
            let index = self.items.len() as u32;
            let item = function_call(call, true);
            let events = [
                ResponseEvent::OutputItemAdded {
                    output_index: index,
                    item: function_call(call, false),
                },
                ResponseEvent::FunctionCallArgumentsDelta {
                    item_id: id.clone(),
                    output_index: index,
                    delta: arguments.clone(),
                },
                ResponseEvent::FunctionCallArgumentsDone {
                    item_id: id,
                    output_index: index,
                    arguments,
                },
                ResponseEvent::OutputItemDone {
                    output_index: index,
                    item: item.clone(),
                },
            ];
            self.items.push(item);
            if !self.send_all(events).await {
                return false;
            }
        }
        true
    }

    /// Closes what is open (an answer with no output gets an empty
    /// message, so `output[0]` is always there) and completes.
    async fn end(&mut self, ending: &Ending) {
        if self.items.is_empty() && self.open.is_none() && !self.open_message().await {
            return;
        }
        if !self.close_message().await {
            return;
        }
        let response = self
            .reply
            .object("completed", self.items.clone(), Some(ending));
        let _ = self
            .send(ResponseEvent::Completed {
                response: Box::new(response),
            })
            .await;
    }

    async fn fail(&mut self, e: &ApiError) {
        let mut response = self.reply.object("failed", self.items.clone(), None);
        response.error = Some(json!({"code": "server_error", "message": e.message}));
        let _ = self
            .send(ResponseEvent::Failed {
                response: Box::new(response),
            })
            .await;
    }

    async fn send_all<const N: usize>(&mut self, events: [ResponseEvent; N]) -> bool {
        for event in events {
            if !self.send(event).await {
                return false;
            }
        }
        true
    }
}
