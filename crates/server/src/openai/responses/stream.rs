//! The events of a streamed response: `response.created` and
//! `response.in_progress`, then each output item opened, filled and closed
//! in the order the answer produces it (a reasoning summary's deltas, a
//! message's text deltas, a function call's arguments), then
//! `response.completed` — or `response.failed`. Every event carries the
//! next `sequence_number`.

use hearth_api::openai::{OutputItem, ResponseEvent, ResponseStreamEvent};
use hearth_api::ToolCall;
use serde_json::json;

use super::output::{
    arguments, function_call, function_call_id, message, output_text, reasoning_item, Reply,
};
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
            Some(Ok(Piece::Text(text, _))) => s.text(text).await,
            Some(Ok(Piece::Reasoning(text))) => s.reasoning(text).await,
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

/// The item being written: a message or a reasoning summary.
struct Open {
    reasoning: bool,
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
    open: Option<Open>,
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
        if !self.ensure_open(false).await {
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

    /// Adds reasoning to the open reasoning item, opening one if needed.
    async fn reasoning(&mut self, delta: String) -> bool {
        if !self.ensure_open(true).await {
            return false;
        }
        let open = self.open.as_mut().expect("opened above");
        open.text.push_str(&delta);
        let event = ResponseEvent::ReasoningSummaryTextDelta {
            item_id: open.id.clone(),
            output_index: open.index,
            summary_index: 0,
            delta,
        };
        self.send(event).await
    }

    /// Makes sure the open item is of the wanted kind, closing another.
    async fn ensure_open(&mut self, reasoning: bool) -> bool {
        match self.open.as_ref().map(|o| o.reasoning) {
            Some(kind) if kind == reasoning => return true,
            Some(_) if !self.close().await => return false,
            _ => {}
        }
        let open = Open {
            reasoning,
            id: ids::new(if reasoning { "rs_" } else { "msg_" }),
            index: self.items.len() as u32,
            text: String::new(),
        };
        let (id, index) = (open.id.clone(), open.index);
        self.open = Some(open);
        if reasoning {
            let item = reasoning_item(&id, None);
            return self
                .send(ResponseEvent::OutputItemAdded {
                    output_index: index,
                    item,
                })
                .await;
        }
        let added = ResponseEvent::OutputItemAdded {
            output_index: index,
            item: message(&id, "in_progress", ""),
        };
        let part = ResponseEvent::ContentPartAdded {
            item_id: id,
            output_index: index,
            content_index: 0,
            part: output_text(""),
        };
        self.send_all([added, part]).await
    }

    /// Closes the open item, if any, and keeps it for the final output.
    async fn close(&mut self) -> bool {
        let Some(open) = self.open.take() else {
            return true;
        };
        if open.reasoning {
            let item = reasoning_item(&open.id, Some(&open.text));
            let events = [
                ResponseEvent::ReasoningSummaryTextDone {
                    item_id: open.id.clone(),
                    output_index: open.index,
                    summary_index: 0,
                    text: open.text.clone(),
                },
                ResponseEvent::OutputItemDone {
                    output_index: open.index,
                    item: item.clone(),
                },
            ];
            self.items.push(item);
            return self.send_all(events).await;
        }
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

    /// Each call is a `function_call` item, its arguments sent whole.
    async fn calls(&mut self, calls: &[ToolCall]) -> bool {
        if !self.close().await {
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

    /// Closes what is open and completes. An answer without a message or
    /// a call (no text at all) still gets an empty message, as clients read
    /// the answer from the message item.
    async fn end(&mut self, ending: &Ending) {
        let answered = self.open.as_ref().is_some_and(|o| !o.reasoning)
            || self.items.iter().any(|i| {
                matches!(
                    i,
                    OutputItem::Message { .. } | OutputItem::FunctionCall { .. }
                )
            });
        if !answered && !self.ensure_open(false).await {
            return;
        }
        if !self.close().await {
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
