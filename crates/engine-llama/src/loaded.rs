//! A loaded model and its context.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use hearth_engine::{
    Completion, EngineError, GenerateRequest, LoadSpec, LoadedModel, ModelInfo, TokenSink,
};

use crate::backend::backend;
use crate::context::{self, Pooling};
use crate::vision::Vision;

/// A model with one context. The model is leaked on purpose: the context
/// borrows it for its whole life, and a runner process holds exactly one
/// model until it exits, so there is nothing to give back.
pub struct LlamaLoaded {
    pub(crate) model: &'static LlamaModel,
    pub(crate) ctx: LlamaContext<'static>,
    /// Tokens whose keys and values are in the KV cache, in order, so the
    /// next request can reuse the longest common prefix.
    pub(crate) cached: Vec<LlamaToken>,
    pub(crate) n_batch: u32,
    /// Set for an embedding context: how many sequences one batch holds.
    pub(crate) embed_seqs: Option<u32>,
    /// The projector of a multimodal model (`LoadSpec::projector_path`).
    pub(crate) vision: Option<Vision>,
    info: ModelInfo,
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
        let mut params = LlamaModelParams::default().with_use_mmap(spec.use_mmap);
        if spec.num_gpu >= 0 {
            params = params.with_n_gpu_layers(spec.num_gpu as u32);
        }
        let model = LlamaModel::load_from_file(backend, &spec.model_path, &params)
            .map_err(|e| EngineError::Load(format!("{e} ({})", spec.model_path.display())))?;
        let model: &'static LlamaModel = Box::leak(Box::new(model));

        let (ctx, n_batch, embed_seqs) = new_context(model, spec)?;
        let vision = Vision::load(model, spec, threads(spec.num_thread))?;
        let mut info = model_info(model, &ctx);
        if let Some(v) = &vision {
            info.image_tokens = v.image_tokens;
            info.total_bytes += v.bytes;
        }
        tracing::info!(n_ctx = info.n_ctx, embedding = embed_seqs.is_some(), path = %spec.model_path.display(), "model loaded");
        Ok(Self {
            model,
            ctx,
            cached: Vec::new(),
            n_batch,
            embed_seqs,
            vision,
            info,
        })
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
    let n_batch = spec.num_batch.clamp(1, n_ctx);
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
        None => (context::generation(n_ctx, n_batch, threads, spec), None),
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

/// Memory the loaded model occupies: weights plus an f16 KV cache for the
/// allocated context plus the logits buffer of one micro-batch.
fn model_info(model: &LlamaModel, ctx: &LlamaContext<'_>) -> ModelInfo {
    let n_ctx = ctx.n_ctx();
    let n_head = u64::from(model.n_head().max(1));
    let kv_per_token =
        2 * u64::from(model.n_layer()) * (model.n_embd() as u64) * u64::from(model.n_head_kv())
            / n_head
            * 2;
    let kv = kv_per_token * u64::from(n_ctx);
    let logits = u64::from(ctx.n_ubatch()) * model.n_vocab() as u64 * 4;
    ModelInfo {
        n_ctx,
        n_ctx_train: model.n_ctx_train(),
        n_vocab: model.n_vocab() as u32,
        weights_bytes: model.size(),
        total_bytes: model.size() + kv + logits,
        vram_bytes: 0,
        image_tokens: 0,
    }
}
