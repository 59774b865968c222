//! One generation: tokenize, reuse the cached prefix, prefill, then sample
//! and stream until an end-of-generation token, a stop string, the token
//! budget or the end of the context.

use std::time::Instant;

use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use hearth_engine::stop::{StopMatcher, StopStep};
use hearth_engine::{Completion, DoneReason, EngineError, GenerateRequest, TokenSink};

use crate::loaded::LlamaLoaded;
use crate::logprobs;
use crate::output::Output;
use crate::sampler::Sampler;
use crate::utf8::Utf8Decoder;
use crate::vision;

pub fn run(
    m: &mut LlamaLoaded,
    req: &GenerateRequest,
    sink: &mut TokenSink<'_>,
) -> Result<Completion, EngineError> {
    let n_ctx = m.ctx.n_ctx();
    let prompt_started = Instant::now();
    // Vision hook: a prompt with images is prefilled by `vision` (mtmd).
    let (prompt, reused) = if req.images.is_empty() {
        let prompt = prompt_tokens(m, req, &req.prompt)?;
        let prompt = fit_to_context(prompt, n_ctx, req);
        let reused = reuse_prefix(m, &prompt);
        prefill(m, &prompt[reused..], reused)?;
        (prompt, reused)
    } else {
        let (prompt, reused) = vision::prefill(m, req)?;
        let last = prompt.len() - 1;
        prefill(m, &prompt[last..], last)?;
        (prompt, reused)
    };
    let prompt_eval_duration_ns = elapsed_ns(prompt_started);
    let text_prompt = vision::text_tokens(&prompt);

    let grammar = grammar_of(req)?;
    let mut sampler = Sampler::new(m.model, &req.sampling, n_ctx, grammar.as_deref())?;
    sampler.accept_prompt(&text_prompt);
    let budget = req.num_predict.unwrap_or(u32::MAX);
    let mut context: Vec<i32> = text_prompt.iter().map(|t| t.0).collect();
    let mut text = Utf8Decoder::default();
    let mut stops = StopMatcher::new(&req.stop);
    let mut eval_count = 0u32;
    let mut stopped_by_string = false;
    let eval_started = Instant::now();
    let mut batch = LlamaBatch::new(1, 1);
    let vocab = m.model.vocab();
    let mut out = Output::new(sink);

    let done_reason = loop {
        if eval_count >= budget {
            break DoneReason::Length;
        }
        let token = sampler.sample(&m.ctx);
        if vocab.is_eog(token) {
            break DoneReason::Stop;
        }
        eval_count += 1;
        context.push(token.0);
        let bytes = vocab.token_to_piece(token, false, None);
        if let Some(top) = req.logprobs {
            out.note(logprobs::of(m, token, &bytes, top));
        }
        match stops.push(&text.push(&bytes)) {
            StopStep::Stop(before) => {
                // Log probabilities of the stop string's own tokens go with
                // the text before it, or nowhere: the stop is not output.
                out.emit(&before)?;
                stopped_by_string = true;
                break DoneReason::Stop;
            }
            StopStep::Continue(piece) => out.emit(&piece)?,
        }
        if m.cached.len() + 1 >= n_ctx as usize {
            break DoneReason::Length;
        }
        decode_one(m, &mut batch, token)?;
    };
    if !stopped_by_string {
        // Flush what was held back: an unfinished character, a partial stop.
        let (StopStep::Stop(rest) | StopStep::Continue(rest)) = stops.push(&text.finish());
        out.emit(&rest)?;
        out.emit(&stops.finish())?;
        out.flush_logprobs()?;
    }

    Ok(Completion {
        done_reason,
        prompt_eval_count: prompt.len() as u32,
        prompt_eval_duration_ns,
        eval_count,
        eval_duration_ns: elapsed_ns(eval_started),
        context,
        stop_sequence: stops.matched().map(str::to_string),
        prompt_cached: reused as u32,
        kv_used: m.cached.len() as u32,
        kv_size: n_ctx,
    })
}

/// The request's grammar: given as GBNF, or converted from a JSON schema
/// by llama.cpp's own converter.
fn grammar_of(req: &GenerateRequest) -> Result<Option<String>, EngineError> {
    if let Some(schema) = &req.json_schema {
        let gbnf = llama_cpp_2::json_schema_to_grammar(schema).map_err(|e| {
            EngineError::InvalidRequest(format!("invalid JSON schema in format: {e}"))
        })?;
        return Ok(Some(gbnf));
    }
    Ok(req.grammar.clone())
}

/// `req.context`, then `text` tokenized (the prompt, or the part of it
/// before the first image).
pub(crate) fn prompt_tokens(
    m: &LlamaLoaded,
    req: &GenerateRequest,
    text: &str,
) -> Result<Vec<LlamaToken>, EngineError> {
    let n_vocab = m.model.n_vocab();
    if let Some(bad) = req.context.iter().find(|&&t| t < 0 || t >= n_vocab) {
        return Err(EngineError::InvalidRequest(format!(
            "invalid token id {bad} in context"
        )));
    }
    let mut tokens: Vec<LlamaToken> = req.context.iter().map(|&t| LlamaToken(t)).collect();
    let add_special = req.add_special && tokens.is_empty();
    tokens.extend(m.tokens_of(text, add_special));
    if tokens.is_empty() {
        // Nothing to condition on: start from BOS so sampling has logits.
        tokens.push(m.model.vocab().bos());
    }
    Ok(tokens)
}

/// Keeps the prompt inside the context, leaving room to generate: the first
/// `num_keep` tokens (BOS, the system prompt's start) stay, the oldest
/// tokens after them go.
fn fit_to_context(prompt: Vec<LlamaToken>, n_ctx: u32, req: &GenerateRequest) -> Vec<LlamaToken> {
    let n_ctx = n_ctx as usize;
    let reserve = req
        .num_predict
        .map_or(n_ctx / 4, |n| (n as usize).min(n_ctx / 4))
        .max(1);
    let limit = n_ctx.saturating_sub(reserve).max(1);
    if prompt.len() <= limit {
        return prompt;
    }
    let keep = (req.num_keep as usize).min(limit / 2);
    let tail = limit - keep;
    tracing::warn!(
        prompt = prompt.len(),
        limit,
        "prompt truncated to fit the context"
    );
    let mut fitted = prompt[..keep].to_vec();
    fitted.extend_from_slice(&prompt[prompt.len() - tail..]);
    fitted
}

/// Drops whatever in the KV cache follows the longest common prefix with
/// `prompt` and returns how many tokens are reused. At least one prompt
/// token is always evaluated again so there are fresh logits to sample.
pub(crate) fn reuse_prefix(m: &mut LlamaLoaded, prompt: &[LlamaToken]) -> usize {
    let common = m
        .cached
        .iter()
        .zip(prompt)
        .take_while(|(a, b)| a == b)
        .count();
    let reuse = common.min(prompt.len() - 1);
    // A sliding-window cache forgets old positions as it goes. Once it has,
    // a kept prefix would miss its start in those layers, so only an
    // intact cache (it still holds position 0) can be reused.
    let intact = m.cached.is_empty() || m.ctx.kv_cache_seq_pos_min(0) <= 0;
    let trimmed = intact
        && reuse > 0
        && m.ctx
            .clear_kv_cache_seq(Some(0), Some(reuse as u32), None)
            .unwrap_or(false);
    if trimmed {
        m.cached.truncate(reuse);
        reuse
    } else {
        // Some caches (sliding-window layers) cannot drop a suffix.
        m.ctx.clear_kv_cache();
        m.cached.clear();
        0
    }
}

pub(crate) fn prefill(
    m: &mut LlamaLoaded,
    tokens: &[LlamaToken],
    start: usize,
) -> Result<(), EngineError> {
    let n_batch = m.n_batch as usize;
    let mut batch = LlamaBatch::new(n_batch, 1);
    let mut pos = start;
    for (i, chunk) in tokens.chunks(n_batch).enumerate() {
        batch.clear();
        let last_chunk = (i + 1) * n_batch >= tokens.len();
        for (j, &token) in chunk.iter().enumerate() {
            let wants_logits = last_chunk && j == chunk.len() - 1;
            batch
                .add(token, (pos + j) as i32, &[0], wants_logits)
                .map_err(|e| EngineError::Generate(e.to_string()))?;
        }
        m.ctx
            .decode(&mut batch)
            .map_err(|e| EngineError::Generate(format!("prefill: {e}")))?;
        m.cached.extend_from_slice(chunk);
        pos += chunk.len();
    }
    Ok(())
}

fn decode_one(
    m: &mut LlamaLoaded,
    batch: &mut LlamaBatch,
    token: LlamaToken,
) -> Result<(), EngineError> {
    batch.clear();
    batch
        .add(token, m.cached.len() as i32, &[0], true)
        .map_err(|e| EngineError::Generate(e.to_string()))?;
    m.ctx
        .decode(batch)
        .map_err(|e| EngineError::Generate(format!("decode: {e}")))?;
    m.cached.push(token);
    Ok(())
}

fn elapsed_ns(since: Instant) -> u64 {
    since.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64
}
