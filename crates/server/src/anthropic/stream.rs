//! A streamed Messages answer: `message_start`, a `ping`, each content
//! block opened, filled and closed in the order the answer produces it
//! (thinking and text deltas, a tool call's input as one JSON delta), then
//! `message_delta` with the stop reason and counts, and `message_stop`.
//! A failure midway is an `error` event, and the stream ends there.

use hearth_api::anthropic::{
    BlockDelta, DeltaUsage, MessageDelta, MessageUsage, OutputBlock, StreamEvent,
};
use hearth_api::ToolCall;
use serde_json::{json, Value};

use super::error;
use super::Head;
use crate::answer::{Answer, Ending, Piece};
use crate::error::ApiError;
use crate::sse::SseSender;

/// Streams `answer` until it ends, fails or the client leaves (dropping
/// `answer` then cancels the generation).
pub async fn write(mut answer: Answer, head: Head, tx: SseSender) {
    let mut w = Writer {
        tx,
        head,
        blocks: 0,
        open: None,
    };
    let start = StreamEvent::MessageStart {
        message: Box::new(w.head.start(Vec::new(), MessageUsage::default())),
    };
    if !(w.send(start).await && w.send(StreamEvent::Ping).await) {
        return;
    }
    loop {
        let going = match answer.next().await {
            Some(Ok(Piece::Text(text, _))) => w.text(text, false).await,
            Some(Ok(Piece::Reasoning(text))) => w.text(text, true).await,
            Some(Ok(Piece::ToolCalls(calls))) => w.calls(&calls).await,
            Some(Ok(Piece::End(ending))) => return w.end(&ending).await,
            Some(Err(e)) => return w.fail(&e).await,
            None => return w.fail(&ApiError::internal("generation ended early")).await,
        };
        if !going {
            return;
        }
    }
}

struct Writer {
    tx: SseSender,
    head: Head,
    /// Blocks opened so far; the next block's index.
    blocks: u32,
    /// The text-like block being written: `Some(true)` for thinking,
    /// `Some(false)` for text.
    open: Option<bool>,
}

impl Writer {
    /// Sends one event; `false` means the client is gone.
    async fn send(&self, event: StreamEvent) -> bool {
        self.tx.event(event.kind(), &event).await
    }

    async fn open(&mut self, block: OutputBlock) -> bool {
        let index = self.blocks;
        self.blocks += 1;
        self.send(StreamEvent::ContentBlockStart {
            index,
            content_block: block,
        })
        .await
    }

    /// The index of the block opened last.
    fn current(&self) -> u32 {
        self.blocks - 1
    }

    /// Adds to the open text (or thinking) block, opening one first (and
    /// closing one of the other kind) if needed.
    async fn text(&mut self, text: String, thinking: bool) -> bool {
        if self.open != Some(thinking) {
            if !self.close_text().await {
                return false;
            }
            self.open = Some(thinking);
            let block = if thinking {
                OutputBlock::Thinking {
                    thinking: String::new(),
                    signature: String::new(),
                }
            } else {
                OutputBlock::Text {
                    text: String::new(),
                }
            };
            if !self.open(block).await {
                return false;
            }
        }
        let delta = if thinking {
            BlockDelta::ThinkingDelta { thinking: text }
        } else {
            BlockDelta::TextDelta { text }
        };
        let index = self.current();
        self.send(StreamEvent::ContentBlockDelta { index, delta })
            .await
    }

    async fn close_text(&mut self) -> bool {
        if self.open.take().is_none() {
            return true;
        }
        let index = self.current();
        self.send(StreamEvent::ContentBlockStop { index }).await
    }

    /// Each call is a `tool_use` block whose input arrives as one JSON delta.
    async fn calls(&mut self, calls: &[ToolCall]) -> bool {
        if !self.close_text().await {
            return false;
        }
        for call in calls {
            let block = OutputBlock::ToolUse {
                id: call.id.clone(),
                name: call.function.name.clone(),
                input: json!({}),
            };
            let partial_json = Value::Object(call.function.arguments.clone()).to_string();
            let opened = self.open(block).await;
            let index = self.current();
            let sent = opened
                && self
                    .send(StreamEvent::ContentBlockDelta {
                        index,
                        delta: BlockDelta::InputJsonDelta { partial_json },
                    })
                    .await
                && self.send(StreamEvent::ContentBlockStop { index }).await;
            if !sent {
                return false;
            }
        }
        true
    }

    /// Closes what is open (an answer with no text or tool use gets an
    /// empty text block), then the stop reason with the final counts.
    async fn end(&mut self, ending: &Ending) {
        let only_thinking = self.blocks == 1 && self.open == Some(true);
        if (self.blocks == 0 || only_thinking) && !self.text(String::new(), false).await {
            return;
        }
        if !self.close_text().await {
            return;
        }
        let (reason, sequence) = self.head.stop(ending);
        let delta = StreamEvent::MessageDelta {
            delta: MessageDelta {
                stop_reason: Some(reason),
                stop_sequence: sequence,
            },
            usage: DeltaUsage {
                input_tokens: ending.prompt_tokens,
                output_tokens: ending.completion_tokens,
            },
        };
        if self.send(delta).await {
            let _ = self.send(StreamEvent::MessageStop).await;
        }
    }

    async fn fail(&self, e: &ApiError) {
        let _ = self
            .send(StreamEvent::Error {
                error: error::body(e),
            })
            .await;
    }
}
