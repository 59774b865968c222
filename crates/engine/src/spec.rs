//! What to load and what was loaded.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Load-time settings: a change to any of them needs a reload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LoadSpec {
    /// Path of the GGUF weights.
    pub model_path: PathBuf,
    /// Context window in tokens (capped to the model's trained context).
    pub num_ctx: u32,
    /// Prompt batch size.
    pub num_batch: u32,
    /// CPU threads; 0 picks a default from the machine.
    pub num_thread: u32,
    /// Layers to offload to a GPU (-1 = as many as fit; 0 = CPU only).
    pub num_gpu: i32,
    /// Memory-map the weights.
    pub use_mmap: bool,
    /// Load for embeddings (the GGUF declares a pooling type): the context
    /// pools each input into one vector instead of producing logits.
    #[serde(default)]
    pub embedding: bool,
    /// Flash attention: on, off, or llama.cpp's choice (`None`).
    #[serde(default)]
    pub flash_attention: Option<bool>,
    /// Element type of the KV cache (`f16`, `q8_0`, `q4_0`); `None` = f16.
    #[serde(default)]
    pub kv_cache_type: Option<String>,
    /// A multimodal projector GGUF (`image.projector` layer) to load next to
    /// the model, which then takes images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projector_path: Option<PathBuf>,
    /// Requests generated at once (continuous batching slots), each with
    /// its own `num_ctx` of KV cache. 0 lets the scheduler choose from the
    /// memory that is free; a runner treats 0 as 1.
    #[serde(default)]
    pub num_parallel: u32,
}

impl LoadSpec {
    /// A spec with Hearth's defaults for `model_path`.
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        Self {
            model_path: model_path.into(),
            num_ctx: 4096,
            num_batch: 512,
            num_thread: 0,
            num_gpu: -1,
            use_mmap: true,
            embedding: false,
            flash_attention: None,
            kv_cache_type: None,
            projector_path: None,
            num_parallel: 1,
        }
    }
}

/// Facts about a loaded model that the scheduler and `/api/ps` report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Context of one slot (one request), in tokens.
    pub n_ctx: u32,
    /// Slots: requests the runner generates at once.
    #[serde(default)]
    pub n_parallel: u32,
    /// The model's trained context length.
    pub n_ctx_train: u32,
    /// Vocabulary size.
    pub n_vocab: u32,
    /// Bytes of weights.
    pub weights_bytes: u64,
    /// Estimated bytes the loaded model occupies (weights + KV cache + compute).
    pub total_bytes: u64,
    /// Bytes of that in GPU memory.
    pub vram_bytes: u64,
    /// With a projector: about how many context positions one image takes
    /// (measured on a square test image at load), for prompt truncation.
    /// 0 = the model takes no images.
    #[serde(default)]
    pub image_tokens: u32,
    /// The runner's resident memory right after loading (0 if unknown).
    #[serde(default)]
    pub rss_bytes: u64,
}
