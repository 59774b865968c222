//! The runner process: one loaded model, served over stdin/stdout.
//!
//! The server starts `hearth runner <spec-json>`; this module loads the
//! model, answers `Ready` (or `LoadFailed`), then serves requests. A reader
//! thread takes messages off stdin into an inbox; the main thread owns the
//! context and loops: take what arrived (waiting only when nothing runs),
//! hand generations and cancellations to the [`Batcher`], answer the quick
//! requests (tokenize, embed) in place, then run one batch step. So a
//! `cancel` takes effect within one decode step, and a new request joins
//! the running ones at the next step. When stdin closes (the server went
//! away or unloaded the model), the process exits.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::{Arc, Condvar, Mutex};

use hearth_engine::protocol::{FromRunner, ToRunner};
use hearth_engine::{LoadSpec, LoadedModel};

use crate::batch::Batcher;
use crate::LlamaLoaded;

#[derive(Default)]
struct Inbox {
    queue: VecDeque<ToRunner>,
    closed: bool,
}

type Shared = Arc<(Mutex<Inbox>, Condvar)>;

/// Runs the runner until stdin closes. Returns the process exit code.
pub fn main(spec_json: &str) -> i32 {
    let spec: LoadSpec = match serde_json::from_str(spec_json) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("runner: bad load spec: {e}");
            return 2;
        }
    };
    let mut model = match LlamaLoaded::load(&spec) {
        Ok(model) => model,
        Err(error) => {
            send(&FromRunner::LoadFailed { error });
            return 1;
        }
    };
    send(&FromRunner::Ready { info: model.info() });
    let shared: Shared = Arc::default();
    let reader = shared.clone();
    std::thread::spawn(move || read_requests(reader));
    let mut batcher: Batcher<'static> = Batcher::new(&model);
    while let Some(messages) = take_messages(&shared, batcher.is_idle()) {
        for message in messages {
            match message {
                ToRunner::Generate { id, request } => {
                    let sink = move |text: &str, logprobs| {
                        send(&FromRunner::Token {
                            id,
                            text: text.to_string(),
                            logprobs,
                        });
                        true
                    };
                    batcher.submit(id, request, Box::new(sink));
                }
                ToRunner::Cancel { id } => batcher.cancel(id),
                other => serve(&mut model, other),
            }
        }
        for done in batcher.step(&mut model) {
            let id = done.id;
            send(&match done.result {
                Ok(completion) => FromRunner::Done { id, completion },
                Err(error) => FromRunner::Failed { id, error },
            });
        }
    }
    0
}

fn read_requests(shared: Shared) {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let request = match serde_json::from_str::<ToRunner>(&line) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("runner: ignoring malformed request: {e}");
                continue;
            }
        };
        let (lock, cvar) = &*shared;
        lock.lock().expect("inbox lock").queue.push_back(request);
        cvar.notify_one();
    }
    let (lock, cvar) = &*shared;
    lock.lock().expect("inbox lock").closed = true;
    cvar.notify_all();
}

/// What arrived since the last call, in order; waits for something when
/// `wait` (no generation is running). `None` once stdin closed: the server
/// is gone, so running generations have nobody to stream to.
fn take_messages(shared: &Shared, wait: bool) -> Option<Vec<ToRunner>> {
    let (lock, cvar) = &**shared;
    let mut inbox = lock.lock().expect("inbox lock");
    loop {
        if inbox.closed {
            return None;
        }
        if !inbox.queue.is_empty() || !wait {
            return Some(inbox.queue.drain(..).collect());
        }
        inbox = cvar.wait(inbox).expect("inbox lock");
    }
}

/// Answers a request that does not generate.
fn serve(model: &mut LlamaLoaded, request: ToRunner) {
    let reply = match request {
        ToRunner::Tokenize {
            id,
            text,
            add_special,
        } => match model.tokenize(&text, add_special) {
            Ok(tokens) => FromRunner::Tokens { id, tokens },
            Err(error) => FromRunner::Failed { id, error },
        },
        ToRunner::Detokenize { id, tokens } => match model.detokenize(&tokens) {
            Ok(text) => FromRunner::Text { id, text },
            Err(error) => FromRunner::Failed { id, error },
        },
        ToRunner::Embed {
            id,
            inputs,
            truncate,
        } => match model.embed(&inputs, truncate) {
            Ok((embeddings, prompt_tokens)) => FromRunner::Embeddings {
                id,
                embeddings,
                prompt_tokens,
            },
            Err(error) => FromRunner::Failed { id, error },
        },
        ToRunner::Generate { .. } | ToRunner::Cancel { .. } => return,
    };
    send(&reply);
}

fn send(msg: &FromRunner) {
    let mut line = serde_json::to_vec(msg).expect("protocol messages serialize");
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    // A failed write means the server is gone; the reader sees EOF and we exit.
    let _ = out.write_all(&line).and_then(|_| out.flush());
}
