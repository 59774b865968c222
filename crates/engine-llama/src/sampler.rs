//! Builds llama.cpp's sampler chain from Hearth's sampling settings.

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;

use hearth_engine::{EngineError, Sampling};

/// The sampler chain for `s`: penalties, then either greedy (temperature 0)
/// or the truncation samplers, temperature and a seeded draw.
pub fn build(
    model: &LlamaModel,
    s: &Sampling,
    n_ctx: u32,
    grammar: Option<&str>,
) -> Result<LlamaSampler, EngineError> {
    let mut chain = Vec::new();
    if let Some(g) = grammar {
        let sampler = LlamaSampler::grammar(model, g, "root")
            .map_err(|e| EngineError::InvalidRequest(format!("invalid grammar: {e}")))?;
        chain.push(sampler);
    }
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
        return Ok(LlamaSampler::chain_simple(chain));
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
    Ok(LlamaSampler::chain_simple(chain))
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
