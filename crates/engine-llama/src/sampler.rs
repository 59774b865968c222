//! Token selection: llama.cpp's sampler chain built from Hearth's sampling
//! settings, plus an optional grammar applied the cheap way.
//!
//! A grammar inside the chain is evaluated against every candidate token
//! on every step, which costs ~100 ms per token on a 262k vocabulary. As in
//! llama.cpp's own `common_sampler`, the chain samples first; the grammar
//! only checks the one chosen token, and only when it refuses it are all
//! candidates filtered and the chain run again. The grammar is also kept
//! out of the chain so that prompt tokens can be fed to the repetition
//! penalties without the grammar seeing (and aborting on) them.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

use hearth_engine::{EngineError, Sampling};

/// The sampler of one generation (each slot has its own).
pub struct Sampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
}

impl Sampler {
    /// A sampler for `s`, constrained by the GBNF `grammar` if given.
    pub fn new(
        model: &LlamaModel,
        s: &Sampling,
        n_ctx: u32,
        grammar: Option<&str>,
    ) -> Result<Self, EngineError> {
        let grammar = match grammar {
            Some(g) => Some(
                LlamaSampler::grammar(model, g, "root")
                    .map_err(|e| EngineError::InvalidRequest(format!("invalid grammar: {e}")))?,
            ),
            None => None,
        };
        Ok(Self {
            chain: chain(model, s, n_ctx),
            grammar,
        })
    }

    /// Feeds prompt tokens to the repetition penalties.
    pub fn accept_prompt(&mut self, tokens: &[LlamaToken]) {
        self.chain.accept_many(tokens.iter());
    }

    /// Picks the next token from the logits at position `idx` of the last
    /// decoded batch (each slot has its own row).
    pub fn sample(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> LlamaToken {
        let mut candidates = ctx.token_data_array_ith(idx);
        candidates.apply_sampler(&mut self.chain);
        let mut token = candidates
            .selected_token()
            .unwrap_or_else(|| candidates.data[0].id());
        if let Some(grammar) = self.grammar.as_mut() {
            if !allows(grammar, token) {
                let mut constrained = ctx.token_data_array_ith(idx);
                constrained.apply_sampler(grammar);
                constrained.apply_sampler(&mut self.chain);
                token = constrained
                    .selected_token()
                    .unwrap_or_else(|| constrained.data[0].id());
            }
            grammar.accept(token);
        }
        self.chain.accept(token);
        token
    }
}

/// Whether the grammar accepts `token` next.
fn allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut single = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
    single.apply_sampler(grammar);
    single.data[0].logit().is_finite()
}

/// Penalties, then either greedy (temperature 0) or the truncation
/// samplers, temperature and a seeded draw.
fn chain(model: &LlamaModel, s: &Sampling, n_ctx: u32) -> LlamaSampler {
    let mut chain = Vec::new();
    let penalties_on =
        s.repeat_penalty != 1.0 || s.presence_penalty != 0.0 || s.frequency_penalty != 0.0;
    if penalties_on && s.repeat_last_n != 0 {
        let last_n = if s.repeat_last_n < 0 {
            n_ctx as i32
        } else {
            s.repeat_last_n
        };
        chain.push(LlamaSampler::penalties(
            model.n_vocab(),
            last_n,
            s.repeat_penalty,
            s.frequency_penalty,
            s.presence_penalty,
        ));
    }
    if s.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
        return LlamaSampler::chain_simple(chain);
    }
    if s.top_k > 0 {
        chain.push(LlamaSampler::top_k(s.top_k));
    }
    if s.typical_p > 0.0 && s.typical_p < 1.0 {
        chain.push(LlamaSampler::typical(s.typical_p, 1));
    }
    if s.top_p > 0.0 && s.top_p < 1.0 {
        chain.push(LlamaSampler::top_p(s.top_p, 1));
    }
    if s.min_p > 0.0 {
        chain.push(LlamaSampler::min_p(s.min_p, 1));
    }
    chain.push(LlamaSampler::temp(s.temperature));
    chain.push(LlamaSampler::dist(s.seed.unwrap_or_else(random_seed)));
    LlamaSampler::chain_simple(chain)
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
