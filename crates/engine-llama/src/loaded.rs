//! A loaded model, its context and what each sequence (slot) of that
//! context holds in the KV cache.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use hearth_engine::{
    Completion, EngineError, GenerateRequest, LoadSpec, LoadedModel, ModelInfo, TokenSink,
};

use crate::backend::backend;
use crate::checkpoint::{self, Checkpoint};
use crate::context::{self, Pooling};
use crate::vision::Vision;

/// A model with one context. The model is leaked on purpose: the context
/// borrows it for its whole life, and a runner process holds exactly one
/// model until it exits, so there is nothing to give back.
pub struct LlamaLoaded {
    pub(crate) model: &'static LlamaModel,
    pub(crate) ctx: LlamaContext<'static>,
    /// One entry per slot (llama.cpp sequence id = index): the tokens whose
    /// keys and values that sequence holds, so a new request can reuse the
    /// longest common prefix.
    pub(crate) seqs: Vec<SeqCache>,
    /// Tokens one decode call may carry.
    pub(crate) n_batch: u32,
    /// Context of one slot: a request never holds more tokens than this.
    pub(crate) n_ctx_slot: u32,
    /// Set for an embedding context: how many sequences one batch holds.
    pub(crate) embed_seqs: Option<u32>,
    /// The projector of a multimodal model (`LoadSpec::projector_path`).
    pub(crate) vision: Option<Vision>,
    /// The attention window of a sliding-window model (see `checkpoint`).
    pub(crate) window: Option<u32>,
    /// Whether the context keeps a separate sliding-window state; learnt at
    /// the first checkpoint.
    pub(crate) partial_state: Option<bool>,
    info: ModelInfo,
}

/// What one sequence of the context holds.
#[derive(Default)]
pub(crate) struct SeqCache {
    /// Tokens in the KV cache at positions 0.., in order. Shorten it only
    /// through [`SeqCache::truncate`], [`SeqCache::remove`] or
    /// [`SeqCache::clear`], which keep the checkpoints in step.
    pub(crate) tokens: Vec<LlamaToken>,
    /// When a request last used it (a logical clock), for LRU choice.
    pub(crate) last_used: u64,
    /// Sliding-window states of earlier prompt ends, oldest first; each
    /// covers a prefix of `tokens`.
    pub(crate) checkpoints: Vec<Checkpoint>,
}

impl SeqCache {
    /// Keeps the first `n` tokens; checkpoints past them are stale.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.tokens.truncate(n);
        self.checkpoints.retain(|c| (c.pos_max() as usize) < n);
    }

    /// Drops the tokens in `range` (a context shift moved the later ones
    /// down); every checkpoint describes positions that moved.
    pub(crate) fn remove(&mut self, range: std::ops::Range<usize>) {
        self.tokens.drain(range);
        self.checkpoints.clear();
    }

    /// Forgets everything the sequence held.
    pub(crate) fn clear(&mut self) {
        self.tokens.clear();
        self.checkpoints.clear();
    }
}

// SAFETY-free justification: LlamaContext is Send (checked by the crate);
// LlamaModel is Send + Sync, so the whole value can move to a worker thread.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<LlamaLoaded>();
};

impl LlamaLoaded {
    /// Loads `spec.model_path` and creates its context.
    pub fn load(spec: &LoadSpec) -> Result<Self, EngineError> {
        if !spec.model_path.is_file() {
            return Err(EngineError::Load(format!(
                "model file {} not found",
                spec.model_path.display()
            )));
        }
        let backend = backend();
        let gpu_free_before = gpu_memory_free();
        let mut params = LlamaModelParams::default().with_use_mmap(spec.use_mmap);
        if spec.num_gpu >= 0 {
            params = params.with_n_gpu_layers(spec.num_gpu as u32);
        }
        let model = LlamaModel::load_from_file(backend, &spec.model_path, &params)
            .map_err(|e| EngineError::Load(format!("{e} ({})", spec.model_path.display())))?;
        let model: &'static LlamaModel = Box::leak(Box::new(model));

        let (ctx, n_batch, embed_seqs) = new_context(model, spec)?;
        let n_slots = if embed_seqs.is_some() {
            1
        } else {
            slots_of(spec)
        };
        let n_ctx_slot = ctx.n_ctx() / n_slots;
        let vision = Vision::load(model, spec, threads(spec.num_thread))?;
        let mut info = model_info(model, &ctx, n_slots);
        // What the weights and caches really took on the GPUs (0 without).
        info.vram_bytes = gpu_free_before.saturating_sub(gpu_memory_free());
        if let Some(v) = &vision {
            info.image_tokens = v.image_tokens;
            info.total_bytes += v.bytes;
        }
        tracing::info!(n_ctx = info.n_ctx, n_parallel = n_slots, embedding = embed_seqs.is_some(), path = %spec.model_path.display(), "model loaded");
        Ok(Self {
            model,
            ctx,
            seqs: (0..n_slots).map(|_| SeqCache::default()).collect(),
            n_batch,
            n_ctx_slot,
            embed_seqs,
            vision,
            window: checkpoint::window_of(model),
            partial_state: None,
            info,
        })
    }

    /// Slots (sequences) of the context.
    pub fn n_slots(&self) -> usize {
        self.seqs.len()
    }

    /// Empties the KV cache of every sequence.
    pub(crate) fn forget_caches(&mut self) {
        self.ctx.clear_kv_cache();
        for seq in &mut self.seqs {
            seq.clear();
        }
    }

    /// Tokenizes text with special tokens in it parsed as such.
    pub(crate) fn tokens_of(&self, text: &str, add_special: bool) -> Vec<LlamaToken> {
        self.model
            .vocab()
            .tokenize(text.as_bytes(), add_special, true)
    }
}

impl LoadedModel for LlamaLoaded {
    fn info(&self) -> ModelInfo {
        self.info.clone()
    }

    fn generate(
        &mut self,
        request: &GenerateRequest,
        sink: &mut TokenSink<'_>,
    ) -> Result<Completion, EngineError> {
        if self.embed_seqs.is_some() {
            // An embedding context outputs pooled vectors, not logits.
            return Err(EngineError::Unsupported(
                "embedding models cannot generate text".into(),
            ));
        }
        crate::generate::run(self, request, sink)
    }

    fn embed(
        &mut self,
        inputs: &[String],
        truncate: bool,
    ) -> Result<(Vec<Vec<f32>>, u32), EngineError> {
        crate::embed::run(self, inputs, truncate)
    }

    fn tokenize(&self, text: &str, add_special: bool) -> Result<Vec<i32>, EngineError> {
        Ok(self
            .tokens_of(text, add_special)
            .into_iter()
            .map(|t| t.0)
            .collect())
    }

    fn detokenize(&self, tokens: &[i32]) -> Result<String, EngineError> {
        let tokens: Vec<LlamaToken> = tokens.iter().map(|&t| LlamaToken(t)).collect();
        if let Some(bad) = tokens
            .iter()
            .find(|t| t.0 < 0 || t.0 >= self.model.n_vocab())
        {
            return Err(EngineError::InvalidRequest(format!(
                "invalid token id {}",
                bad.0
            )));
        }
        let bytes = self.model.vocab().detokenize(&tokens, true, false);
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The context for `spec`: an embedding context when embeddings are asked
/// for and the model pools, else a generation context. Returns it with its
/// batch size and, for embeddings, the sequences one batch holds.
fn new_context(
    model: &'static LlamaModel,
    spec: &LoadSpec,
) -> Result<(LlamaContext<'static>, u32, Option<u32>), EngineError> {
    let n_ctx = spec.num_ctx.clamp(4, model.n_ctx_train().max(4));
    let threads = threads(spec.num_thread);
    let slots = slots_of(spec);
    // Every generating slot puts one token in each decode call.
    let n_batch = spec.num_batch.clamp(1, n_ctx).max(slots);
    // A model without a usable pooling is loaded for generation even when
    // asked for embeddings; `embed` then says it cannot.
    let pooling = spec
        .embedding
        .then(|| Pooling::declared_by(model))
        .flatten();
    let (params, embed_seqs) = match pooling {
        Some(p) => {
            let (params, seqs) = context::embedding(n_ctx, threads, p);
            (params, Some(seqs))
        }
        None => (
            context::generation(n_ctx * slots, slots, n_batch, threads, spec),
            None,
        ),
    };
    let ctx = model
        .new_context(backend(), params)
        .map_err(|e| EngineError::Load(format!("cannot create context: {e}")))?;
    Ok((ctx, n_batch, embed_seqs))
}

/// Threads to use: as asked, else one per core up to 8 (past that, decode
/// is memory-bound and more threads only add contention).
fn threads(asked: u32) -> i32 {
    if asked > 0 {
        return asked as i32;
    }
    std::thread::available_parallelism()
        .map(|n| n.get().min(8) as i32)
        .unwrap_or(4)
}

/// Slots asked for: at least one, at most what llama.cpp allows.
fn slots_of(spec: &LoadSpec) -> u32 {
    spec.num_parallel.clamp(1, MAX_SLOTS)
}

/// llama.cpp's limit on sequences in one context (`LLAMA_MAX_SEQ`).
pub const MAX_SLOTS: u32 = 256;

/// Memory the loaded model occupies: weights plus an f16 KV cache for the
/// allocated context (all slots) plus the logits buffer of one micro-batch,
/// and the resident memory of this process now.
fn model_info(model: &LlamaModel, ctx: &LlamaContext<'_>, slots: u32) -> ModelInfo {
    let n_ctx = ctx.n_ctx();
    let n_head = u64::from(model.n_head().max(1));
    let kv_per_token =
        2 * u64::from(model.n_layer()) * (model.n_embd() as u64) * u64::from(model.n_head_kv())
            / n_head
            * 2;
    let kv = kv_per_token * u64::from(n_ctx);
    let logits = u64::from(ctx.n_ubatch()) * model.n_vocab() as u64 * 4;
    ModelInfo {
        n_ctx: n_ctx / slots,
        n_parallel: slots,
        rss_bytes: resident_bytes(),
        n_ctx_train: model.n_ctx_train(),
        n_vocab: model.n_vocab() as u32,
        weights_bytes: model.size(),
        total_bytes: model.size() + kv + logits,
        vram_bytes: 0,
        image_tokens: 0,
    }
}

/// Free memory of the GPUs llama.cpp can use, in bytes (0 without any).
fn gpu_memory_free() -> u64 {
    use llama_cpp_2::{list_llama_ggml_backend_devices, LlamaBackendDeviceType};
    list_llama_ggml_backend_devices()
        .iter()
        .filter(|d| {
            matches!(
                d.device_type,
                LlamaBackendDeviceType::Gpu | LlamaBackendDeviceType::IntegratedGpu
            )
        })
        .map(|d| d.memory_free as u64)
        .sum()
}

/// This process's resident set (`VmRSS`), 0 where /proc is missing.
fn resident_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
