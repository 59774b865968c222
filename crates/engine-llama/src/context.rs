//! Context settings: a generation context, or an embedding context that
//! pools every sequence of a batch into one vector.
//!
//! Some wrong embedding settings make llama.cpp abort (`GGML_ASSERT`, which
//! no Rust code can catch) instead of returning an error, so the embedding
//! settings here are safe by construction:
//! * mean pooling reserves its worst-case graph with `min(n_ctx, n_ubatch)`
//!   tokens spread over `n_seq_max` sequences and asserts when that does not
//!   divide evenly: `n_seq_max` is a power of two dividing the micro-batch;
//! * encoder-only models (BERT) and pooling both need every sequence inside
//!   one micro-batch: `n_batch == n_ubatch == n_ctx`, and a batch is never
//!   filled past that;
//! * several sequences pool correctly only over one unified KV cache
//!   (`kv_unified`), otherwise mean pooling mixes up sequences.

use std::num::NonZeroU32;

use hearth_engine::LoadSpec;
use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::model::LlamaModel;

use crate::embed_plan;

/// How an embedding model turns token vectors into one vector per input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
    Last,
}

impl Pooling {
    /// The pooling a GGUF declares (`<arch>.pooling_type`), if it is one that
    /// yields an embedding: none (0) and rank (4, rerankers) do not.
    pub fn declared_by(model: &LlamaModel) -> Option<Self> {
        let arch = model.meta_val_str("general.architecture").ok()?;
        let raw = model.meta_val_str(&format!("{arch}.pooling_type")).ok()?;
        Self::from_gguf(raw.trim().parse().ok()?)
    }

    /// The pooling for a GGUF `pooling_type` value.
    pub fn from_gguf(value: i64) -> Option<Self> {
        match value {
            1 => Some(Pooling::Mean),
            2 => Some(Pooling::Cls),
            3 => Some(Pooling::Last),
            _ => None,
        }
    }

    fn llama(self) -> LlamaPoolingType {
        match self {
            Pooling::Mean => LlamaPoolingType::Mean,
            Pooling::Cls => LlamaPoolingType::Cls,
            Pooling::Last => LlamaPoolingType::Last,
        }
    }
}

/// Settings of a generation context of `n_ctx` tokens shared by `slots`
/// sequences. The KV cache is unified: one pool of cells that every
/// sequence draws from (each is kept under its own `n_ctx / slots` by the
/// batcher), so decode steps mixing one token of each generating sequence
/// with a long prompt chunk split freely into micro-batches (separate
/// per-sequence streams would split them evenly per sequence instead).
pub fn generation(
    n_ctx: u32,
    slots: u32,
    n_batch: u32,
    threads: i32,
    spec: &LoadSpec,
) -> LlamaContextParams {
    let mut params = LlamaContextParams::default();
    if let Some(on) = spec.flash_attention {
        // llama.cpp's flash-attention policy: 1 enabled, 0 disabled (-1 auto).
        params = params.with_flash_attention_policy(i32::from(on));
    }
    if let Some(kind) = spec.kv_cache_type.as_deref().and_then(kv_cache_type) {
        params = params.with_type_k(kind).with_type_v(kind);
    }
    params
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_seq_max(slots)
        .with_kv_unified(true)
        .with_n_batch(n_batch)
        .with_n_ubatch(n_batch.min(512))
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        // Only the sliding window is kept for SWA layers (Gemma 3):
        // full-size SWA caches cost ~5x the KV memory for no gain here.
        .with_swa_full(false)
}

/// Settings of an embedding context for `n_ctx` tokens, and the number of
/// sequences one batch may hold.
pub fn embedding(n_ctx: u32, threads: i32, pooling: Pooling) -> (LlamaContextParams, u32) {
    let n_seq_max = embed_plan::seq_max_for(n_ctx);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(n_ctx)
        .with_n_ubatch(n_ctx)
        .with_n_seq_max(n_seq_max)
        .with_kv_unified(true)
        .with_embeddings(true)
        .with_pooling_type(pooling.llama())
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    (params, n_seq_max)
}

/// The KV cache element types Ollama accepts (`OLLAMA_KV_CACHE_TYPE`).
pub fn kv_cache_type(name: &str) -> Option<KvCacheType> {
    match name.to_ascii_lowercase().as_str() {
        "f16" => Some(KvCacheType::F16),
        "q8_0" => Some(KvCacheType::Q8_0),
        "q4_0" => Some(KvCacheType::Q4_0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_vector_poolings_embed() {
        assert_eq!(Pooling::from_gguf(1), Some(Pooling::Mean));
        assert_eq!(Pooling::from_gguf(2), Some(Pooling::Cls));
        assert_eq!(Pooling::from_gguf(3), Some(Pooling::Last));
        for other in [-1, 0, 4, 5] {
            assert_eq!(Pooling::from_gguf(other), None, "{other}");
        }
    }
}
