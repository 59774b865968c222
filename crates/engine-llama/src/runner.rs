//! The runner process: one loaded model, served over stdin/stdout.
//!
//! The server starts `hearth runner <spec-json>`; this module loads the
//! model, answers `Ready` (or `LoadFailed`), then serves requests one at a
//! time. A reader thread takes requests off stdin so that a `cancel` reaches
//! a generation while it runs. When stdin closes (the server went away or
//! unloaded the model), the process exits.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, Write};
use std::sync::{Arc, Condvar, Mutex};

use hearth_engine::protocol::{FromRunner, ToRunner};
use hearth_engine::{Engine, LoadSpec, LoadedModel};

use crate::LlamaEngine;

#[derive(Default)]
struct Inbox {
    queue: VecDeque<ToRunner>,
    cancelled: HashSet<u64>,
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
    let mut model = match LlamaEngine.load(&spec) {
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
    while let Some(request) = next_request(&shared) {
        serve(model.as_mut(), request, &shared);
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
        let mut inbox = lock.lock().expect("inbox lock");
        match request {
            ToRunner::Cancel { id } => {
                inbox.cancelled.insert(id);
            }
            other => inbox.queue.push_back(other),
        }
        cvar.notify_one();
    }
    let (lock, cvar) = &*shared;
    lock.lock().expect("inbox lock").closed = true;
    cvar.notify_all();
}

fn next_request(shared: &Shared) -> Option<ToRunner> {
    let (lock, cvar) = &**shared;
    let mut inbox = lock.lock().expect("inbox lock");
    loop {
        if let Some(r) = inbox.queue.pop_front() {
            return Some(r);
        }
        if inbox.closed {
            return None;
        }
        inbox = cvar.wait(inbox).expect("inbox lock");
    }
}

fn is_cancelled(shared: &Shared, id: u64) -> bool {
    let (lock, _) = &**shared;
    let inbox = lock.lock().expect("inbox lock");
    inbox.closed || inbox.cancelled.contains(&id)
}

fn serve(model: &mut dyn LoadedModel, request: ToRunner, shared: &Shared) {
    let reply = match request {
        ToRunner::Generate { id, request } => {
            if is_cancelled(shared, id) {
                return;
            }
            let mut sink = |text: &str, logprobs| {
                send(&FromRunner::Token {
                    id,
                    text: text.to_string(),
                    logprobs,
                });
                !is_cancelled(shared, id)
            };
            match model.generate(&request, &mut sink) {
                Ok(completion) => FromRunner::Done { id, completion },
                Err(error) => FromRunner::Failed { id, error },
            }
        }
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
        ToRunner::Cancel { .. } => return,
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
