//! The server's handle on a runner child process.
//!
//! Each loaded model lives in its own process (the `hearth` binary in its
//! hidden runner mode) so that an abort inside llama.cpp kills that runner,
//! never the server. [`RunnerProcess`] spawns it, waits for it to report the
//! model loaded, and multiplexes requests over its stdin/stdout.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{FromRunner, ToRunner};
use crate::{Completion, EngineError, GenerateRequest, LoadSpec, ModelInfo, TokenLogprob};

/// How to start a runner: a program and the arguments before the spec.
#[derive(Debug, Clone)]
pub struct RunnerCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl RunnerCommand {
    /// The current executable in runner mode (`<exe> runner`).
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
            args: vec!["runner".into()],
        })
    }
}

type Pending = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<FromRunner>>>>;
const STDERR_TAIL: usize = 20;

/// A running runner process with its model loaded.
pub struct RunnerProcess {
    writer: mpsc::UnboundedSender<ToRunner>,
    pending: Pending,
    next_id: AtomicU64,
    alive: Arc<AtomicBool>,
    info: ModelInfo,
    pid: Option<u32>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
}

/// One generation in flight. Dropping it cancels the generation.
pub struct Generation {
    id: u64,
    rx: mpsc::UnboundedReceiver<FromRunner>,
    writer: mpsc::UnboundedSender<ToRunner>,
    finished: bool,
}

/// What a [`Generation`] yields.
#[derive(Debug)]
pub enum GenerationEvent {
    Token(Piece),
    Done(Completion),
}

/// A piece of generated text and the log probabilities of the tokens
/// behind it (empty unless the request asked for them).
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub logprobs: Vec<TokenLogprob>,
}

impl RunnerProcess {
    /// Starts a runner for `spec` and waits until the model is loaded.
    pub async fn spawn(command: &RunnerCommand, spec: &LoadSpec) -> Result<Self, EngineError> {
        let spec_json =
            serde_json::to_string(spec).map_err(|e| EngineError::Load(e.to_string()))?;
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .arg(spec_json)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| EngineError::Load(format!("cannot start runner: {e}")))?;
        let pid = child.id();
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");

        let tail = Arc::new(Mutex::new(VecDeque::new()));
        tokio::spawn(forward_stderr(stderr, tail.clone(), pid));
        let mut lines = BufReader::new(stdout).lines();
        let info = match wait_ready(&mut lines).await {
            Ok(info) => info,
            Err(e) => {
                let _ = child.kill().await;
                return Err(with_stderr(e, &tail));
            }
        };

        let (writer, writer_rx) = mpsc::unbounded_channel();
        tokio::spawn(write_requests(stdin, writer_rx));
        let pending: Pending = Arc::default();
        let alive = Arc::new(AtomicBool::new(true));
        let (kill_tx, kill_rx) = oneshot::channel();
        tokio::spawn(route_replies(lines, pending.clone()));
        tokio::spawn(supervise(
            child,
            kill_rx,
            pending.clone(),
            alive.clone(),
            tail,
        ));
        Ok(Self {
            writer,
            pending,
            next_id: AtomicU64::new(1),
            alive,
            info,
            pid,
            kill: Mutex::new(Some(kill_tx)),
        })
    }

    /// Facts the runner reported after loading.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The runner's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the process is still running.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Starts a generation.
    pub fn generate(&self, request: GenerateRequest) -> Result<Generation, EngineError> {
        let (id, rx) = self.send(|id| ToRunner::Generate { id, request })?;
        Ok(Generation {
            id,
            rx,
            writer: self.writer.clone(),
            finished: false,
        })
    }

    /// Tokenizes `text` with the model's tokenizer.
    pub async fn tokenize(&self, text: &str, add_special: bool) -> Result<Vec<i32>, EngineError> {
        let text = text.to_string();
        match self
            .call(|id| ToRunner::Tokenize {
                id,
                text,
                add_special,
            })
            .await?
        {
            FromRunner::Tokens { tokens, .. } => Ok(tokens),
            other => Err(unexpected(&other)),
        }
    }

    /// Turns tokens back into text.
    pub async fn detokenize(&self, tokens: Vec<i32>) -> Result<String, EngineError> {
        match self.call(|id| ToRunner::Detokenize { id, tokens }).await? {
            FromRunner::Text { text, .. } => Ok(text),
            other => Err(unexpected(&other)),
        }
    }

    /// Embeds `inputs` (one vector each, in order) and returns the vectors
    /// with the number of tokens evaluated.
    pub async fn embed(
        &self,
        inputs: Vec<String>,
        truncate: bool,
    ) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
        match self
            .call(|id| ToRunner::Embed {
                id,
                inputs,
                truncate,
            })
            .await?
        {
            FromRunner::Embeddings {
                embeddings,
                prompt_tokens,
                ..
            } => Ok((embeddings, prompt_tokens)),
            other => Err(unexpected(&other)),
        }
    }

    /// Stops the process. Requests in flight fail with `RunnerGone`.
    pub fn shutdown(&self) {
        if let Some(tx) = self.kill.lock().expect("kill lock").take() {
            let _ = tx.send(());
        }
    }

    async fn call(&self, make: impl FnOnce(u64) -> ToRunner) -> Result<FromRunner, EngineError> {
        let (_, mut rx) = self.send(make)?;
        match rx.recv().await {
            Some(FromRunner::Failed { error, .. }) => Err(error),
            Some(reply) => Ok(reply),
            None => Err(EngineError::RunnerGone("runner exited".into())),
        }
    }

    fn send(
        &self,
        make: impl FnOnce(u64) -> ToRunner,
    ) -> Result<(u64, mpsc::UnboundedReceiver<FromRunner>), EngineError> {
        if !self.is_alive() {
            return Err(EngineError::RunnerGone("runner exited".into()));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        self.pending.lock().expect("pending lock").insert(id, tx);
        self.writer
            .send(make(id))
            .map_err(|_| EngineError::RunnerGone("runner exited".into()))?;
        Ok((id, rx))
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Generation {
    /// The next event; `None` after `Done` or an error.
    pub async fn next(&mut self) -> Option<Result<GenerationEvent, EngineError>> {
        if self.finished {
            return None;
        }
        let reply = match self.rx.recv().await {
            Some(reply) => reply,
            None => {
                self.finished = true;
                return Some(Err(EngineError::RunnerGone(
                    "runner exited during generation".into(),
                )));
            }
        };
        match reply {
            FromRunner::Token { text, logprobs, .. } => {
                Some(Ok(GenerationEvent::Token(Piece { text, logprobs })))
            }
            FromRunner::Done { completion, .. } => {
                self.finished = true;
                Some(Ok(GenerationEvent::Done(completion)))
            }
            FromRunner::Failed { error, .. } => {
                self.finished = true;
                Some(Err(error))
            }
            other => {
                self.finished = true;
                Some(Err(unexpected(&other)))
            }
        }
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.writer.send(ToRunner::Cancel { id: self.id });
        }
    }
}

async fn wait_ready(
    lines: &mut tokio::io::Lines<BufReader<ChildStdout>>,
) -> Result<ModelInfo, EngineError> {
    loop {
        let line = lines
            .next_line()
            .await
            .map_err(|e| EngineError::Load(e.to_string()))?
            .ok_or_else(|| EngineError::Load("runner exited while loading the model".into()))?;
        match serde_json::from_str::<FromRunner>(&line) {
            Ok(FromRunner::Ready { info }) => return Ok(info),
            Ok(FromRunner::LoadFailed { error }) => return Err(error),
            Ok(other) => return Err(unexpected(&other)),
            Err(_) => tracing::debug!(target: "runner", "{line}"),
        }
    }
}

async fn write_requests(
    mut stdin: tokio::process::ChildStdin,
    mut rx: mpsc::UnboundedReceiver<ToRunner>,
) {
    while let Some(msg) = rx.recv().await {
        let mut line = serde_json::to_vec(&msg).expect("protocol messages serialize");
        line.push(b'\n');
        if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
            break;
        }
    }
}

async fn route_replies(mut lines: tokio::io::Lines<BufReader<ChildStdout>>, pending: Pending) {
    while let Ok(Some(line)) = lines.next_line().await {
        let reply = match serde_json::from_str::<FromRunner>(&line) {
            Ok(reply) => reply,
            Err(_) => {
                // Stray output from native code; it is not ours to parse.
                tracing::debug!(target: "runner", "{line}");
                continue;
            }
        };
        let Some(id) = reply.id() else { continue };
        let mut pending = pending.lock().expect("pending lock");
        let is_final = reply.is_final();
        if let Some(tx) = pending.get(&id) {
            let _ = tx.send(reply);
        }
        if is_final {
            pending.remove(&id);
        }
    }
}

/// Waits for the process to exit (or kills it on request), then fails every
/// request still waiting so no client hangs on a dead runner.
async fn supervise(
    mut child: Child,
    kill: oneshot::Receiver<()>,
    pending: Pending,
    alive: Arc<AtomicBool>,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = kill => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    alive.store(false, Ordering::SeqCst);
    let reason = match status {
        Ok(s) => format!("runner {s}"),
        Err(e) => e.to_string(),
    };
    let error = with_stderr(EngineError::RunnerGone(reason), &tail);
    for (id, tx) in pending.lock().expect("pending lock").drain() {
        let _ = tx.send(FromRunner::Failed {
            id,
            error: error.clone(),
        });
    }
}

async fn forward_stderr(stderr: ChildStderr, tail: Arc<Mutex<VecDeque<String>>>, pid: Option<u32>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "runner", pid, "{line}");
        let mut tail = tail.lock().expect("tail lock");
        if tail.len() == STDERR_TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    }
}

/// Adds the last meaningful stderr line of the runner to a load or crash
/// error, so the user sees why (e.g. llama.cpp's own message).
fn with_stderr(error: EngineError, tail: &Mutex<VecDeque<String>>) -> EngineError {
    let tail = tail.lock().expect("tail lock");
    let Some(last) = tail.iter().rev().find(|l| !l.trim().is_empty()) else {
        return error;
    };
    let last = last.trim().to_string();
    match error {
        EngineError::Load(m) if !m.contains(&last) => EngineError::Load(format!("{m} ({last})")),
        EngineError::RunnerGone(m) => EngineError::RunnerGone(format!("{m}: {last}")),
        other => other,
    }
}

fn unexpected(reply: &FromRunner) -> EngineError {
    EngineError::RunnerGone(format!("unexpected reply from runner: {reply:?}"))
}
