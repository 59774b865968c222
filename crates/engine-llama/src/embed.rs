//! Embeddings: tokenize every input, fit it to the context, and pool many
//! inputs per decode call, one sequence each, over an embedding context
//! (see [`crate::context`] for why its settings cannot abort llama.cpp).

use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use hearth_engine::EngineError;

use crate::embed_plan;
use crate::loaded::LlamaLoaded;

/// What Ollama says when asked to embed with a model that has no pooling.
pub const UNSUPPORTED: &str = "this model does not support embeddings";

pub fn run(
    m: &mut LlamaLoaded,
    inputs: &[String],
    truncate: bool,
) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
    let Some(max_seqs) = m.embed_seqs else {
        return Err(EngineError::Unsupported(UNSUPPORTED.into()));
    };
    let limit = m.ctx.n_ubatch() as usize;
    let seqs = inputs
        .iter()
        .map(|text| tokens_for(m, text, limit, truncate))
        .collect::<Result<Vec<_>, _>>()?;
    let mut vectors = vec![Vec::new(); seqs.len()];
    // A sequence without tokens has nothing to pool; it stays all zeros.
    let todo: Vec<usize> = (0..seqs.len()).filter(|&i| !seqs[i].is_empty()).collect();
    let lens: Vec<usize> = todo.iter().map(|&i| seqs[i].len()).collect();
    for range in embed_plan::batches(&lens, limit, max_seqs as usize) {
        let group = &todo[range];
        for (&i, v) in group.iter().zip(decode_group(m, &seqs, group)?) {
            vectors[i] = v;
        }
    }
    let dim = m.model.n_embd_out().max(0) as usize;
    for v in vectors.iter_mut().filter(|v| v.is_empty()) {
        *v = vec![0.0; dim];
    }
    if vectors.iter().flatten().any(|x| !x.is_finite()) {
        return Err(EngineError::InvalidRequest(
            "embedding contains NaN or Inf values".into(),
        ));
    }
    let tokens: usize = seqs.iter().map(Vec::len).sum();
    Ok((vectors, tokens.min(u32::MAX as usize) as u32))
}

/// The tokens of one input, special tokens added as the model wants,
/// fitted to `limit`.
fn tokens_for(
    m: &LlamaLoaded,
    text: &str,
    limit: usize,
    truncate: bool,
) -> Result<Vec<LlamaToken>, EngineError> {
    let tokens = m.tokens_of(text, true);
    let vocab = m.model.vocab();
    let last = tokens.last().copied();
    // Cutting must not drop the closing token (BERT's [SEP], an EOS) that
    // the model was trained to pool over.
    let keep_last = (vocab.should_add_eos() && last == Some(vocab.eos()))
        || (vocab.should_add_sep() && last == Some(vocab.sep()));
    embed_plan::fit(tokens, limit, truncate, keep_last)
}

/// Decodes the inputs `group` (indices into `seqs`) as one batch, one
/// sequence each, and returns their pooled vectors in the same order.
fn decode_group(
    m: &mut LlamaLoaded,
    seqs: &[Vec<LlamaToken>],
    group: &[usize],
) -> Result<Vec<Vec<f32>>, EngineError> {
    let n_tokens: usize = group.iter().map(|&i| seqs[i].len()).sum();
    let mut batch = LlamaBatch::new(n_tokens, 1);
    for (seq, &i) in group.iter().enumerate() {
        for (pos, &token) in seqs[i].iter().enumerate() {
            batch
                .add(token, pos as i32, &[seq as i32], true)
                .map_err(|e| EngineError::Generate(e.to_string()))?;
        }
    }
    // Every batch starts from an empty cache: sequence ids and positions
    // are reused from one batch to the next.
    m.ctx.clear_kv_cache();
    m.forget_caches();
    m.ctx
        .decode(&mut batch)
        .map_err(|e| EngineError::Generate(format!("embedding: {e}")))?;
    let vectors = (0..group.len())
        .map(|seq| {
            m.ctx
                .embeddings_seq_ith(seq as i32)
                .map(<[f32]>::to_vec)
                .map_err(|e| EngineError::Generate(format!("embedding: {e}")))
        })
        .collect();
    m.ctx.clear_kv_cache();
    vectors
}
