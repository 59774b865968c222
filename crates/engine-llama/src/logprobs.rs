//! Log probabilities of a sampled token from the context's logits (see
//! [`hearth_engine::logprob`] for the arithmetic).

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use hearth_engine::logprob::{self, Candidate};
use hearth_engine::TokenLogprob;

use crate::loaded::LlamaLoaded;

/// The log probability of `token`, whose text is `bytes`, and the `top`
/// most likely tokens, from the logits at position `idx` of the last batch.
pub fn of(m: &LlamaLoaded, idx: i32, token: LlamaToken, bytes: &[u8], top: u32) -> TokenLogprob {
    let logits = m.ctx.get_logits_ith(idx);
    let chosen = usize::try_from(token.0).unwrap_or(usize::MAX);
    let (logprob, best) = logprob::compute(logits, chosen, top as usize);
    TokenLogprob {
        token: Candidate {
            bytes: bytes.to_vec(),
            logprob,
        },
        top: best
            .into_iter()
            .map(|(id, logprob)| Candidate {
                bytes: piece(m.model, id),
                logprob,
            })
            .collect(),
    }
}

fn piece(model: &LlamaModel, id: usize) -> Vec<u8> {
    let token = LlamaToken(i32::try_from(id).unwrap_or(i32::MAX));
    model.vocab().token_to_piece(token, false, None)
}
