//! Resolving a request's model: name → manifest → model file, merged
//! options, load settings and sampling settings.

use std::sync::Arc;

use hearth_api::options::Options;
use hearth_engine::{LoadSpec, Sampling};
use hearth_scheduler::ModelRef;
use hearth_store::{Model, Name};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::templates::{self, ModelFacts, PromptFormat};
use crate::{AppState, ServerConfig};

/// A model ready to be scheduled for one request.
pub struct Resolved {
    /// The model as the store describes it.
    pub model: Model,
    pub facts: Arc<ModelFacts>,
    /// Defaults, then the model's parameters, then the request's options.
    pub options: Options,
    pub format: PromptFormat,
    pub model_ref: ModelRef,
}

impl Resolved {
    /// Ollama shifts the context of every model but DeepSeek 2's (its
    /// multi-head latent attention caches keys that cannot be re-rotated).
    pub fn shifts_by_default(&self) -> bool {
        self.model.config.model_family != "deepseek2"
    }

    /// Whether the model can think: its template supports it or its config
    /// says so.
    pub fn can_think(&self) -> bool {
        hearth_engine::thinking::template_supports_thinking(self.format.source())
            || self
                .model
                .config
                .capabilities
                .iter()
                .any(|c| c == "thinking")
    }
}

/// Looks `name` up (case-insensitively) and returns its store view, or
/// `model '<name>' not found`.
pub fn find(state: &AppState, name: &str) -> Result<Model, ApiError> {
    let parsed = Name::parse(name).map_err(|_| ApiError::model_not_found(name))?;
    state
        .store
        .load(&parsed)?
        .ok_or_else(|| ApiError::model_not_found(name))
}

/// Resolves everything a generation needs. Option type errors are 500s,
/// as in Ollama (they surface during scheduling).
pub async fn resolve(
    state: &AppState,
    name: &str,
    request_options: Option<&Map<String, Value>>,
) -> Result<Resolved, ApiError> {
    let model = find(state, name)?;
    let path = model
        .model_path
        .clone()
        .ok_or_else(|| ApiError::bad_request(format!("\"{name}\" has no model weights")))?;
    let facts = state.facts.get(&path).await?;
    let mut merged = model.params.clone();
    if let Some(opts) = request_options {
        for (k, v) in opts {
            if !v.is_null() {
                merged.insert(k.clone(), v.clone());
            }
        }
    }
    let options = Options::from_map(&merged).map_err(|e| ApiError::internal(e.message))?;
    let format = templates::choose(model.template.as_deref(), &facts);
    let mut spec = load_spec(state, &options, &facts, path);
    // A vision model's first projector is loaded with it (as in Ollama).
    spec.projector_path = model.projector_paths.first().cloned();
    let model_ref = ModelRef {
        name: model.name.display_shortest(),
        digest: model.entry.digest.clone(),
        spec,
    };
    Ok(Resolved {
        model,
        facts,
        options,
        format,
        model_ref,
    })
}

fn load_spec(
    state: &AppState,
    o: &Options,
    facts: &ModelFacts,
    path: std::path::PathBuf,
) -> LoadSpec {
    LoadSpec {
        model_path: path,
        num_ctx: context_size(o.num_ctx, facts.context_length, &state.config),
        num_batch: o.num_batch.filter(|&n| n > 0).map_or(512, |n| n as u32),
        num_thread: o
            .num_thread
            .filter(|&n| n > 0)
            .map_or(state.config.num_thread, |n| n as u32),
        num_gpu: o.num_gpu.map_or(-1, |n| n as i32),
        use_mmap: o.use_mmap.unwrap_or(true),
        embedding: facts.embedding,
        flash_attention: state.config.flash_attention,
        kv_cache_type: state.config.kv_cache_type.clone(),
        projector_path: None,
        // 0 lets the scheduler choose from free memory.
        num_parallel: state.config.num_parallel,
    }
}

/// Sampling settings from merged options over Ollama's defaults.
pub fn sampling(o: &Options) -> Sampling {
    let d = Sampling::default();
    Sampling {
        temperature: o.temperature.unwrap_or(d.temperature),
        top_k: o.top_k.map_or(d.top_k, |v| v as i32),
        top_p: o.top_p.unwrap_or(d.top_p),
        min_p: o.min_p.unwrap_or(d.min_p),
        typical_p: o.typical_p.unwrap_or(d.typical_p),
        repeat_penalty: o.repeat_penalty.unwrap_or(d.repeat_penalty),
        repeat_last_n: o.repeat_last_n.map_or(d.repeat_last_n, |v| v as i32),
        presence_penalty: o.presence_penalty.unwrap_or(d.presence_penalty),
        frequency_penalty: o.frequency_penalty.unwrap_or(d.frequency_penalty),
        seed: o.seed.filter(|&s| s >= 0).map(|s| s as u32),
    }
}

/// `num_predict`: negative means unlimited, which Ollama bounds to ten
/// times the context.
pub fn num_predict(o: &Options, n_ctx: u32) -> Option<u32> {
    let cap = n_ctx.saturating_mul(10);
    match o.num_predict {
        Some(n) if n >= 0 => Some((n as u64).min(u64::from(cap)) as u32),
        _ => Some(cap),
    }
}

/// The context a model is loaded with: the request's `num_ctx` (at least
/// 4), else `HEARTH_CONTEXT_LENGTH`, capped — silently, as Ollama caps to
/// the trained context — by the model's trained context and by
/// `HEARTH_MAX_CONTEXT`. Capping happens before any narrowing cast, so a
/// huge `num_ctx` cannot wrap around to a small one.
fn context_size(requested: Option<i64>, trained: Option<u64>, config: &ServerConfig) -> u32 {
    let mut cap = u64::from(config.max_context);
    if let Some(trained) = trained.filter(|&t| t > 0) {
        cap = cap.min(trained);
    }
    let wanted = requested.map_or(u64::from(config.context_length), |n| n.max(4) as u64);
    wanted.min(cap).min(u64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(default: u32, max: u32) -> ServerConfig {
        let mut config = ServerConfig::from_env();
        config.context_length = default;
        config.max_context = max;
        config
    }

    #[test]
    fn context_is_capped_by_the_model_and_the_server() {
        let c = config(4096, 131_072);
        assert_eq!(context_size(None, Some(2048), &c), 2048);
        assert_eq!(context_size(None, None, &c), 4096);
        assert_eq!(context_size(Some(8192), Some(1 << 20), &c), 8192);
        assert_eq!(context_size(Some(1 << 30), Some(1 << 20), &c), 131_072);
        assert_eq!(context_size(Some(1 << 30), None, &c), 131_072);
        assert_eq!(context_size(Some(1), None, &c), 4);
    }

    #[test]
    fn huge_requests_do_not_wrap_around() {
        let c = config(4096, u32::MAX);
        // 2^32 + 1 would be 1 after a plain `as u32`.
        assert_eq!(context_size(Some((1 << 32) + 1), None, &c), u32::MAX);
        assert_eq!(context_size(Some(i64::MAX), None, &c), u32::MAX);
        assert_eq!(context_size(Some(-5), None, &c), 4);
    }

    #[test]
    fn the_default_is_capped_too() {
        let c = config(1 << 20, 65_536);
        assert_eq!(context_size(None, None, &c), 65_536);
    }
}
