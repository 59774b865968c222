//! Continuous batching: several generations share one context, one decode
//! call per step.
//!
//! The context has one sequence per slot. A request waits in the queue
//! until a slot is free, then takes the free slot whose cached tokens
//! share the longest prefix with its prompt (else the least recently used
//! one) and only prefills the rest. Each [`Batcher::step`] builds one
//! batch: the last sampled token of every generating slot first, then
//! chunks of waiting prompts up to `n_batch` tokens (so a long prompt never
//! stalls the streams already running for more than one chunk), decodes it
//! once and samples every slot that got logits. Each slot has its own
//! sampler chain and grammar, stop-string matcher, UTF-8 decoder and log
//! probabilities. A finished or cancelled request gives its slot back at
//! once; its tokens stay cached for the next request.

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use hearth_engine::stop::{StopMatcher, StopStep};
use hearth_engine::{Completion, DoneReason, EngineError, GenerateRequest, TokenSink};

use crate::checkpoint;
use crate::context_shift;
use crate::generate::{elapsed_ns, fit_to_context, grammar_of, prompt_tokens};
use crate::loaded::LlamaLoaded;
use crate::logprobs;
use crate::output::Output;
use crate::sampler::Sampler;
use crate::utf8::Utf8Decoder;
use crate::vision;

/// A request that ended, with its result.
pub struct Finished {
    pub id: u64,
    pub result: Result<Completion, EngineError>,
}

/// Counters of a batcher's work, for tests and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    /// `llama_decode` calls made.
    pub decode_calls: u64,
    /// Tokens sampled, over all requests.
    pub tokens_generated: u64,
    /// Most slots generating in one decode call.
    pub max_batched: u64,
}

/// The requests of one context: queued and running.
pub struct Batcher<'s> {
    queue: VecDeque<Job<'s>>,
    active: Vec<Active<'s>>,
    cancelled: HashSet<u64>,
    batch: LlamaBatch<'static>,
    clock: u64,
    stats: BatchStats,
}

struct Job<'s> {
    id: u64,
    request: GenerateRequest,
    sink: Box<TokenSink<'s>>,
}

/// A request holding a slot.
struct Active<'s> {
    id: u64,
    seq: usize,
    prompt: Vec<LlamaToken>,
    /// Prompt tokens in the slot's cache so far (reused + prefilled).
    prompt_done: usize,
    reused: Reused,
    sampler: Sampler,
    stops: StopMatcher,
    text: Utf8Decoder,
    out: Output<'s>,
    logprobs: Option<u32>,
    budget: u32,
    /// Shift the context when it fills (else end with "length"), keeping
    /// this many tokens at its start.
    shift: Option<u32>,
    eval_count: u32,
    context: Vec<i32>,
    /// Sampled, not yet decoded: goes into the next batch.
    pending: Option<LlamaToken>,
    /// Row of this slot's logits in the batch just decoded.
    logits_row: Option<i32>,
    /// Prompt tokens put into the batch being decoded.
    chunk: usize,
    stopped_by_string: bool,
    admitted: Instant,
    prompt_eval_ns: u64,
    eval_started: Instant,
}

impl<'s> Batcher<'s> {
    /// A batcher for `m`'s context.
    pub fn new(m: &LlamaLoaded) -> Self {
        Self {
            queue: VecDeque::new(),
            active: Vec::new(),
            cancelled: HashSet::new(),
            batch: LlamaBatch::new(m.n_batch as usize, 1),
            clock: 0,
            stats: BatchStats::default(),
        }
    }

    /// Queues a generation; its text goes to `sink` as it is produced.
    pub fn submit(&mut self, id: u64, request: GenerateRequest, sink: Box<TokenSink<'s>>) {
        self.queue.push_back(Job { id, request, sink });
    }

    /// Cancels request `id` (queued or running); it ends at the next step
    /// with [`EngineError::Cancelled`] and frees its slot.
    pub fn cancel(&mut self, id: u64) {
        if self.queue.iter().any(|j| j.id == id) || self.active.iter().any(|a| a.id == id) {
            self.cancelled.insert(id);
        }
    }

    /// Whether nothing is queued or running.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.active.is_empty()
    }

    /// Requests holding a slot now.
    pub fn running(&self) -> usize {
        self.active.len()
    }

    /// Requests waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    pub fn stats(&self) -> BatchStats {
        self.stats
    }

    /// One step: drops cancelled requests, gives free slots to queued
    /// ones, decodes one batch and samples. Returns the requests that ended.
    pub fn step(&mut self, m: &mut LlamaLoaded) -> Vec<Finished> {
        let mut done = Vec::new();
        self.drop_cancelled(m, &mut done);
        self.admit(m, &mut done);
        if !self.fill_batch(m) {
            return done;
        }
        self.stats.decode_calls += 1;
        if let Err(e) = m.ctx.decode(&mut self.batch) {
            // The batch mixes every running request; none can go on
            // safely, and their caches are in an unknown state.
            let error = EngineError::Generate(format!("decode: {e}"));
            for a in std::mem::take(&mut self.active) {
                m.seqs[a.seq].clear();
                let _ = m.ctx.clear_kv_cache_seq(Some(a.seq as u32), None, None);
                done.push(Finished {
                    id: a.id,
                    result: Err(error.clone()),
                });
            }
            return done;
        }
        self.commit(m);
        self.sample_all(m, &mut done);
        done
    }

    fn drop_cancelled(&mut self, m: &mut LlamaLoaded, done: &mut Vec<Finished>) {
        if self.cancelled.is_empty() {
            return;
        }
        let cancelled = std::mem::take(&mut self.cancelled);
        self.queue.retain(|j| {
            let keep = !cancelled.contains(&j.id);
            if !keep {
                done.push(Finished {
                    id: j.id,
                    result: Err(EngineError::Cancelled),
                });
            }
            keep
        });
        let mut i = 0;
        while i < self.active.len() {
            if cancelled.contains(&self.active[i].id) {
                let a = self.active.swap_remove(i);
                self.release(m, &a);
                done.push(Finished {
                    id: a.id,
                    result: Err(EngineError::Cancelled),
                });
            } else {
                i += 1;
            }
        }
    }

    /// Starts queued requests while slots are free.
    fn admit(&mut self, m: &mut LlamaLoaded, done: &mut Vec<Finished>) {
        while self.active.len() < m.n_slots() {
            let Some(job) = self.queue.pop_front() else {
                return;
            };
            let id = job.id;
            match self.start(m, job) {
                Ok(active) => self.active.push(active),
                Err(error) => done.push(Finished {
                    id,
                    result: Err(error),
                }),
            }
        }
    }

    fn start(&mut self, m: &mut LlamaLoaded, job: Job<'s>) -> Result<Active<'s>, EngineError> {
        if m.embed_seqs.is_some() {
            // An embedding context outputs pooled vectors, not logits.
            return Err(EngineError::Unsupported(
                "embedding models cannot generate text".into(),
            ));
        }
        let req = job.request;
        let admitted = Instant::now();
        let grammar = grammar_of(&req)?;
        let mut sampler = Sampler::new(m.model, &req.sampling, m.n_ctx_slot, grammar.as_deref())?;
        let (seq, prompt, reused, prompt_done) = if req.images.is_empty() {
            let prompt = prompt_tokens(m, &req, &req.prompt)?;
            let prompt = fit_to_context(prompt, m.n_ctx_slot, &req);
            let seq = self.choose_slot(m, &prompt);
            let reused = reuse_prefix(m, seq, &prompt);
            (seq, prompt, reused, reused.n)
        } else {
            // Images are encoded and decoded into the slot here, all but
            // the last prompt token, which the batch loop decodes as usual.
            let seq = self.choose_slot(m, &[]);
            let (prompt, reused) = vision::prefill(m, seq, &req)?;
            let done = prompt.len() - 1;
            (seq, prompt, reused, done)
        };
        let text_prompt = vision::text_tokens(&prompt);
        sampler.accept_prompt(&text_prompt);
        self.clock += 1;
        m.seqs[seq].last_used = self.clock;
        Ok(Active {
            id: job.id,
            seq,
            prompt_done,
            reused,
            sampler,
            stops: StopMatcher::new(&req.stop),
            text: Utf8Decoder::default(),
            out: Output::new(job.sink),
            logprobs: req.logprobs,
            budget: req.num_predict.unwrap_or(u32::MAX),
            shift: req.shift.then_some(req.num_keep),
            eval_count: 0,
            context: text_prompt.iter().map(|t| t.0).collect(),
            prompt,
            pending: None,
            logits_row: None,
            chunk: 0,
            stopped_by_string: false,
            admitted,
            prompt_eval_ns: 0,
            eval_started: admitted,
        })
    }

    /// The free slot whose cache shares the longest prefix with `prompt`;
    /// without any shared prefix, the least recently used free slot.
    fn choose_slot(&self, m: &LlamaLoaded, prompt: &[LlamaToken]) -> usize {
        let busy: HashSet<usize> = self.active.iter().map(|a| a.seq).collect();
        let free = (0..m.n_slots()).filter(|s| !busy.contains(s));
        let best = free
            .clone()
            .map(|s| (common_prefix(&m.seqs[s].tokens, prompt), s))
            .filter(|&(lcp, _)| lcp > 0)
            .max_by_key(|&(lcp, s)| (lcp, std::cmp::Reverse(m.seqs[s].last_used)));
        match best {
            Some((_, s)) => s,
            None => free
                .min_by_key(|&s| m.seqs[s].last_used)
                .expect("admit runs only with a free slot"),
        }
    }

    /// Puts one token of every generating slot, then prompt chunks, into
    /// the batch. Returns whether there is anything to decode.
    fn fill_batch(&mut self, m: &LlamaLoaded) -> bool {
        self.batch.clear();
        let capacity = m.n_batch as i32;
        let mut generating = 0;
        for a in &mut self.active {
            a.logits_row = None;
            a.chunk = 0;
            if let Some(token) = a.pending {
                let pos = m.seqs[a.seq].tokens.len() as i32;
                a.logits_row = Some(self.batch.n_tokens());
                // Capacity is at least the slot count (see `loaded`).
                let _ = self.batch.add(token, pos, &[a.seq as i32], true);
                generating += 1;
            }
        }
        self.stats.max_batched = self.stats.max_batched.max(generating);
        for a in &mut self.active {
            let left = a.prompt.len() - a.prompt_done;
            let room = (capacity - self.batch.n_tokens()).max(0) as usize;
            if a.pending.is_some() || left == 0 || room == 0 {
                continue;
            }
            let take = left.min(room);
            a.chunk = take;
            for j in 0..take {
                let pos = a.prompt_done + j;
                let last = pos + 1 == a.prompt.len();
                if last {
                    a.logits_row = Some(self.batch.n_tokens());
                }
                let _ = self
                    .batch
                    .add(a.prompt[pos], pos as i32, &[a.seq as i32], last);
            }
        }
        self.batch.n_tokens() > 0
    }

    /// Records what the decoded batch put into each slot's cache.
    fn commit(&mut self, m: &mut LlamaLoaded) {
        for a in &mut self.active {
            let cache = &mut m.seqs[a.seq].tokens;
            if let Some(token) = a.pending.take() {
                cache.push(token);
                continue;
            }
            let take = std::mem::take(&mut a.chunk);
            if take == 0 {
                continue;
            }
            cache.extend_from_slice(&a.prompt[a.prompt_done..a.prompt_done + take]);
            a.prompt_done += take;
            if a.prompt_done == a.prompt.len() {
                a.prompt_eval_ns = elapsed_ns(a.admitted);
                a.eval_started = Instant::now();
                checkpoint::take(m, a.seq, a.prompt.len());
            }
        }
    }

    fn sample_all(&mut self, m: &mut LlamaLoaded, done: &mut Vec<Finished>) {
        let mut i = 0;
        while i < self.active.len() {
            let a = &mut self.active[i];
            let Some(row) = a.logits_row.take() else {
                i += 1;
                continue;
            };
            match advance(m, a, row, &mut self.stats) {
                Ok(None) => i += 1,
                Ok(Some(reason)) => {
                    let a = self.active.swap_remove(i);
                    self.release(m, &a);
                    let id = a.id;
                    done.push(Finished {
                        id,
                        result: finish(m, a, reason),
                    });
                }
                Err(error) => {
                    let a = self.active.swap_remove(i);
                    self.release(m, &a);
                    done.push(Finished {
                        id: a.id,
                        result: Err(error),
                    });
                }
            }
        }
    }

    /// Gives a slot back. A prompt cut short leaves its prefix cached,
    /// which is still a valid prefix for the next request.
    fn release(&mut self, m: &mut LlamaLoaded, a: &Active<'_>) {
        self.clock += 1;
        m.seqs[a.seq].last_used = self.clock;
    }
}

/// Samples the next token of `a` from batch row `row` and handles it.
/// Returns why the generation ended, if it did.
fn advance(
    m: &mut LlamaLoaded,
    a: &mut Active<'_>,
    row: i32,
    stats: &mut BatchStats,
) -> Result<Option<DoneReason>, EngineError> {
    if a.eval_count >= a.budget {
        return Ok(Some(DoneReason::Length));
    }
    let token = a.sampler.sample(&m.ctx, row);
    let vocab = m.model.vocab();
    if vocab.is_eog(token) {
        return Ok(Some(DoneReason::Stop));
    }
    a.eval_count += 1;
    stats.tokens_generated += 1;
    a.context.push(token.0);
    let bytes = vocab.token_to_piece(token, false, None);
    if let Some(top) = a.logprobs {
        a.out.note(logprobs::of(m, row, token, &bytes, top));
    }
    match a.stops.push(&a.text.push(&bytes)) {
        StopStep::Stop(before) => {
            // Log probabilities of the stop string's own tokens go with
            // the text before it, or nowhere: the stop is not output.
            a.out.emit(&before)?;
            a.stopped_by_string = true;
            return Ok(Some(DoneReason::Stop));
        }
        StopStep::Continue(piece) => a.out.emit(&piece)?,
    }
    let full = m.seqs[a.seq].tokens.len() + 1 >= m.n_ctx_slot as usize;
    if full
        && !a
            .shift
            .is_some_and(|keep| context_shift::make_room(m, a.seq, keep))
    {
        return Ok(Some(DoneReason::Length));
    }
    a.pending = Some(token);
    Ok(None)
}

/// Flushes what `a` held back and reports its counters.
fn finish(
    m: &LlamaLoaded,
    mut a: Active<'_>,
    done_reason: DoneReason,
) -> Result<Completion, EngineError> {
    if !a.stopped_by_string {
        // Flush what was held back: an unfinished character, a partial stop.
        let (StopStep::Stop(rest) | StopStep::Continue(rest)) = a.stops.push(&a.text.finish());
        a.out.emit(&rest)?;
        a.out.emit(&a.stops.finish())?;
        a.out.flush_logprobs()?;
    }
    Ok(Completion {
        done_reason,
        prompt_eval_count: a.prompt.len() as u32,
        prompt_eval_duration_ns: a.prompt_eval_ns,
        eval_count: a.eval_count,
        eval_duration_ns: elapsed_ns(a.eval_started),
        context: a.context,
        stop_sequence: a.stops.matched().map(str::to_string),
        prompt_cached: a.reused.n as u32,
        prompt_restored: a.reused.from_checkpoint,
        kv_used: m.seqs[a.seq].tokens.len() as u32,
        kv_size: m.n_ctx_slot,
    })
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// What a request found in its slot's cache.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reused {
    /// Prompt tokens kept from the cache.
    pub(crate) n: usize,
    /// Whether they were resumed from a sliding-window checkpoint.
    pub(crate) from_checkpoint: bool,
}

/// Drops whatever slot `seq` caches after its longest common prefix with
/// `prompt` and says how many tokens are reused. At least one prompt
/// token is always evaluated again so there are fresh logits to sample.
pub(crate) fn reuse_prefix(m: &mut LlamaLoaded, seq: usize, prompt: &[LlamaToken]) -> Reused {
    let lcp = common_prefix(&m.seqs[seq].tokens, prompt).min(prompt.len() - 1);
    if lcp > 0 {
        // A sliding-window cache forgets old positions as it goes; the
        // prefix is only usable while the window before its end is intact,
        // else from a checkpoint taken where an earlier prompt ended.
        let pos_min = m.ctx.kv_cache_seq_pos_min(seq as i32);
        if checkpoint::window_holds(m.window, pos_min, lcp) && keep_prefix(m, seq, lcp) {
            return Reused {
                n: lcp,
                from_checkpoint: false,
            };
        }
        if let Some(n) = checkpoint::restore(m, seq, lcp) {
            if keep_prefix(m, seq, n) {
                return Reused {
                    n,
                    from_checkpoint: true,
                };
            }
        }
    }
    let _ = m.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
    m.seqs[seq].clear();
    Reused::default()
}

/// Drops slot `seq`'s cache from position `n` on. Some caches (recurrent
/// state) cannot drop a suffix: false then.
fn keep_prefix(m: &mut LlamaLoaded, seq: usize, n: usize) -> bool {
    let dropped = m
        .ctx
        .clear_kv_cache_seq(Some(seq as u32), Some(n as u32), None)
        .unwrap_or(false);
    if dropped {
        m.seqs[seq].truncate(n);
    }
    dropped
}
