//! `GET /hearth/fit?model=NAME[&num_ctx=N][&insecure=true]`: will a model
//! fit in memory at a context length?
//!
//! For an installed model the figures come from its GGUF: the weights are
//! the file's size and the KV cache is `2 (K and V) × layers × context ×
//! KV heads × head size × 2 bytes` (f16). For a model not pulled yet only
//! the registry manifest's sizes are known, so the KV cache is a rough
//! estimate from the weights' size. Memory is the machine's RAM (Hearth
//! runs llama.cpp on the CPU): what is available now, plus what this model
//! holds already if it is loaded.

use axum::extract::{Query, State};
use axum::Json;
use hearth_api::hearth::{FitReport, Verdict};
use hearth_store::{GgufInfo, GgufValue, Name};
use serde::Deserialize;

use crate::error::ApiError;
use crate::AppState;

/// Query of `GET /hearth/fit`.
#[derive(Debug, Deserialize)]
pub struct FitQuery {
    model: String,
    #[serde(default)]
    num_ctx: Option<u32>,
    /// For a model not installed: reach its registry over plain HTTP.
    #[serde(default)]
    insecure: bool,
}

/// Compute buffers and runtime: a fixed part plus a share of the weights.
const OVERHEAD_FIXED: u64 = 128 << 20;

pub async fn fit(
    State(state): State<AppState>,
    Query(q): Query<FitQuery>,
) -> Result<Json<FitReport>, ApiError> {
    if q.model.trim().is_empty() {
        return Err(ApiError::bad_request("model is required"));
    }
    let num_ctx = q
        .num_ctx
        .filter(|&n| n > 0)
        .unwrap_or(state.config.context_length)
        .min(state.config.max_context);
    let name = Name::parse(&q.model).map_err(|_| ApiError::bad_request("invalid model name"))?;
    let store = state.store.clone();
    let lookup = name.clone();
    let local = tokio::task::spawn_blocking(move || store.load(&lookup))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let (source, weights, kv_cache, loaded_bytes) = match local {
        Some(model) => {
            let Some(path) = model.model_path.clone() else {
                return Err(ApiError::bad_request("model has no weights"));
            };
            let info = tokio::task::spawn_blocking(move || GgufInfo::read(&path))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?
                .map_err(|e| ApiError::internal(e.to_string()))?;
            let ctx = info.context_length().map_or(num_ctx, |train| {
                num_ctx.min(train.min(u32::MAX as u64) as u32)
            });
            let loaded = state
                .scheduler
                .running()
                .iter()
                .filter(|r| Some(&r.model_path) == model.model_path.as_ref())
                .map(|r| r.info.total_bytes)
                .sum::<u64>();
            (
                "local",
                info.file_size(),
                kv_bytes(&info, ctx).unwrap_or_else(|| rough_kv(info.file_size(), ctx)),
                loaded,
            )
        }
        None => {
            let opts = hearth_registry::Options {
                insecure: q.insecure,
                ..hearth_registry::Options::default()
            };
            let size = hearth_registry::manifest_size(&name, &opts)
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
            ("registry", size.weights, rough_kv(size.weights, num_ctx), 0)
        }
    };
    let root = state.store.root().to_path_buf();
    let available =
        tokio::task::spawn_blocking(move || super::system::sample(&root).memory_available)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            + loaded_bytes;
    let overhead = OVERHEAD_FIXED + weights / 20;
    let total = weights + kv_cache + overhead;
    Ok(Json(FitReport {
        model: q.model,
        num_ctx,
        source: source.to_string(),
        weights,
        kv_cache,
        overhead,
        total,
        available,
        verdict: verdict(total, available),
    }))
}

/// At most 80 % of what is available fits; up to 100 % is tight.
pub fn verdict(needed: u64, available: u64) -> Verdict {
    if needed.saturating_mul(5) <= available.saturating_mul(4) {
        Verdict::Fits
    } else if needed <= available {
        Verdict::Tight
    } else {
        Verdict::WontFit
    }
}

/// f16 KV cache bytes from the GGUF's attention shape.
fn kv_bytes(info: &GgufInfo, num_ctx: u32) -> Option<u64> {
    let layers = info.arch_value("block_count")?.as_u64()?;
    let heads = info.arch_value("attention.head_count").and_then(max_u64)?;
    let kv_heads = info
        .arch_value("attention.head_count_kv")
        .and_then(max_u64)
        .unwrap_or(heads);
    let embd = info.embedding_length()?;
    let head_dim = |key: &str| {
        info.arch_value(key)
            .and_then(GgufValue::as_u64)
            .unwrap_or(embd / heads.max(1))
    };
    let per_token =
        kv_heads * (head_dim("attention.key_length") + head_dim("attention.value_length"));
    Some(layers * per_token * u64::from(num_ctx) * 2)
}

/// A scalar, or the largest element of a per-layer array.
fn max_u64(v: &GgufValue) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    match v {
        GgufValue::Array(hearth_store::GgufArray::U32(a)) => a.iter().max().map(|&n| n.into()),
        GgufValue::Array(hearth_store::GgufArray::I32(a)) => {
            a.iter().max().and_then(|&n| u64::try_from(n).ok())
        }
        _ => None,
    }
}

/// Without the model's shape: about 1/8 of a 4-bit model's weights per 8k
/// tokens, which is in the range of today's grouped-query-attention models.
fn rough_kv(weights: u64, num_ctx: u32) -> u64 {
    weights / 65_536 * u64::from(num_ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict(80, 100), Verdict::Fits);
        assert_eq!(verdict(81, 100), Verdict::Tight);
        assert_eq!(verdict(100, 100), Verdict::Tight);
        assert_eq!(verdict(101, 100), Verdict::WontFit);
        assert_eq!(verdict(1, 0), Verdict::WontFit);
    }

    #[test]
    fn rough_kv_grows_with_context() {
        assert_eq!(rough_kv(65_536 * 10, 4096), 10 * 4096);
        assert!(rough_kv(1 << 30, 8192) > rough_kv(1 << 30, 2048));
    }
}
