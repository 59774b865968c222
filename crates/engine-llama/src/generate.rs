//! One generation outside the runner's loop, and the request preparation
//! every generation shares: the prompt's tokens, fitted to the context, and
//! its grammar.

use std::time::Instant;

use llama_cpp_2::token::LlamaToken;

use hearth_engine::{Completion, EngineError, GenerateRequest, TokenSink};

use crate::batch::Batcher;
use crate::loaded::LlamaLoaded;

/// Runs `req` alone to its end through a [`Batcher`] (the same path as the
/// runner's concurrent requests).
pub fn run(
    m: &mut LlamaLoaded,
    req: &GenerateRequest,
    sink: &mut TokenSink<'_>,
) -> Result<Completion, EngineError> {
    let mut batcher = Batcher::new(m);
    batcher.submit(0, req.clone(), Box::new(|text: &str, lp| sink(text, lp)));
    loop {
        if let Some(done) = batcher.step(m).pop() {
            return done.result;
        }
        if batcher.is_idle() {
            return Err(EngineError::Generate(
                "generation ended without a result".into(),
            ));
        }
    }
}

/// The request's grammar: given as GBNF, or converted from a JSON schema
/// by llama.cpp's own converter.
pub(crate) fn grammar_of(req: &GenerateRequest) -> Result<Option<String>, EngineError> {
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
pub(crate) fn fit_to_context(
    prompt: Vec<LlamaToken>,
    n_ctx: u32,
    req: &GenerateRequest,
) -> Vec<LlamaToken> {
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

pub(crate) fn elapsed_ns(since: Instant) -> u64 {
    since.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64
}
