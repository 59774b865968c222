//! Memory: what a model will need before it is loaded (from its GGUF
//! header), what is free (`MemAvailable`, capped by `HEARTH_MAX_MEMORY`),
//! and what a runner really holds once loaded (its resident set).
//!
//! The estimate is llama.cpp's own arithmetic on the header's numbers:
//! the weights as stored, a KV cache of `num_ctx × slots` cells of
//! `n_layer × n_head_kv × (key + value length)` elements of the KV type,
//! and the compute and output buffers, which are dominated by the logits
//! (`(n_ubatch + slots) × n_vocab` floats). Sliding-window layers are
//! counted at full size, so the estimate errs on the safe side for them.

use std::fmt;
use std::path::Path;

use hearth_engine::LoadSpec;
use hearth_store::{GgufArray, GgufInfo, GgufValue};

/// Bytes a model needs, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub weights: u64,
    pub kv_cache: u64,
    pub compute: u64,
    /// Tokens of context per slot, and slots, the KV cache is sized for.
    pub num_ctx: u64,
    pub slots: u64,
}

impl Estimate {
    pub fn total(&self) -> u64 {
        self.weights + self.kv_cache + self.compute
    }

    /// Reads `path`'s header and estimates for `spec` with `slots` slots.
    pub fn for_file(path: &Path, spec: &LoadSpec, slots: u32) -> Option<Estimate> {
        let info = GgufInfo::read(path).ok()?;
        Some(Self::of(&Shape::of(&info), spec, slots))
    }

    /// The estimate for a model of `shape`.
    pub fn of(shape: &Shape, spec: &LoadSpec, slots: u32) -> Estimate {
        let slots = if spec.embedding { 1 } else { slots.max(1) };
        let mut num_ctx = u64::from(spec.num_ctx.max(4));
        if shape.n_ctx_train > 0 {
            num_ctx = num_ctx.min(shape.n_ctx_train);
        }
        let cells = num_ctx * u64::from(slots);
        let (bytes_num, bytes_den) = kv_element_size(spec.kv_cache_type.as_deref());
        let kv_cache =
            shape.n_layer * shape.n_head_kv * (shape.key_len + shape.value_len) * cells * bytes_num
                / bytes_den;
        let n_ubatch = u64::from(spec.num_batch.clamp(1, 512)).min(cells);
        let compute =
            (n_ubatch + u64::from(slots)) * shape.n_vocab * 4 + n_ubatch * shape.n_embd * 4 * 8;
        Estimate {
            weights: shape.weights,
            kv_cache,
            compute,
            num_ctx,
            slots: u64::from(slots),
        }
    }
}

/// The numbers of a GGUF header that memory depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    pub weights: u64,
    pub n_layer: u64,
    pub n_embd: u64,
    pub n_head_kv: u64,
    pub key_len: u64,
    pub value_len: u64,
    pub n_vocab: u64,
    pub n_ctx_train: u64,
}

impl Shape {
    pub fn of(info: &GgufInfo) -> Shape {
        let arch = |k: &str| info.arch_value(k);
        let num = |k: &str| arch(k).and_then(max_of).unwrap_or(0);
        let n_embd = num("embedding_length");
        let n_head = num("attention.head_count").max(1);
        let head_len = |k: &str| arch(k).and_then(max_of).unwrap_or(n_embd / n_head);
        Shape {
            weights: info.file_size().saturating_sub(info.data_offset()),
            n_layer: num("block_count"),
            n_embd,
            n_head_kv: arch("attention.head_count_kv")
                .and_then(max_of)
                .unwrap_or(n_head),
            key_len: head_len("attention.key_length"),
            value_len: head_len("attention.value_length"),
            n_vocab: info
                .get("tokenizer.ggml.tokens")
                .and_then(GgufValue::as_array)
                .map(|a| a.len() as u64)
                .or_else(|| arch("vocab_size").and_then(GgufValue::as_u64))
                .unwrap_or(0),
            n_ctx_train: info.context_length().unwrap_or(0),
        }
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: weights {}, KV cache {} for {} × {} tokens, compute {}",
            human_bytes(self.total()),
            human_bytes(self.weights),
            human_bytes(self.kv_cache),
            self.slots,
            self.num_ctx,
            human_bytes(self.compute)
        )
    }
}

/// Bytes per KV element as a fraction (quantized blocks of 32 elements).
fn kv_element_size(kind: Option<&str>) -> (u64, u64) {
    match kind {
        Some("q8_0") => (34, 32),
        Some("q4_0") => (18, 32),
        _ => (2, 1),
    }
}

/// A number, or the largest of a per-layer array of numbers.
fn max_of(v: &GgufValue) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    match v.as_array()? {
        GgufArray::U32(a) => a.iter().max().map(|&n| u64::from(n)),
        GgufArray::I32(a) => a.iter().max().and_then(|&n| u64::try_from(n).ok()),
        GgufArray::U64(a) => a.iter().max().copied(),
        _ => None,
    }
}

/// `MemAvailable` from /proc/meminfo, `None` where there is no such file.
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    kib_field(&text, "MemAvailable:")
}

/// The resident memory of process `pid` (`VmRSS`).
pub fn resident(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    kib_field(&text, "VmRSS:")
}

fn kib_field(text: &str, name: &str) -> Option<u64> {
    let value = text.lines().find_map(|l| l.strip_prefix(name))?;
    let kib: u64 = value.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// Bytes for people: `1.5 GiB`, `300 MiB`, `12 KiB`, `7 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_cache_grows_with_context_slots_and_type() {
        let shape = Shape {
            weights: 4096,
            n_layer: 2,
            n_embd: 128,
            n_head_kv: 2,
            key_len: 32,
            value_len: 32,
            n_vocab: 1000,
            n_ctx_train: 4096,
        };
        let mut spec = LoadSpec::new("m.gguf");
        spec.num_ctx = 1024;
        let one = Estimate::of(&shape, &spec, 1);
        // 2 layers × 2 kv heads × (32 + 32) × 1024 cells × 2 bytes.
        assert_eq!(one.kv_cache, 2 * 2 * 64 * 1024 * 2);
        assert_eq!(one.weights, 4096);
        assert_eq!(one.total(), one.weights + one.kv_cache + one.compute);
        let four = Estimate::of(&shape, &spec, 4);
        assert_eq!(four.kv_cache, 4 * one.kv_cache);
        spec.kv_cache_type = Some("q8_0".into());
        assert_eq!(
            Estimate::of(&shape, &spec, 1).kv_cache,
            one.kv_cache * 17 / 32
        );
        // The trained context caps the cache.
        spec.kv_cache_type = None;
        spec.num_ctx = 1 << 20;
        assert_eq!(Estimate::of(&shape, &spec, 1).kv_cache, 4 * one.kv_cache);
        // Embedding contexts have one slot.
        spec.embedding = true;
        assert_eq!(Estimate::of(&shape, &spec, 4).slots, 1);
    }

    #[test]
    fn meminfo_fields_are_read_in_bytes() {
        let text = "MemTotal:       16000 kB\nMemAvailable:    2048 kB\n";
        assert_eq!(kib_field(text, "MemAvailable:"), Some(2 << 20));
        assert_eq!(kib_field(text, "Nope:"), None);
        assert!(available().is_some_and(|n| n > 0));
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(300 << 20), "300 MiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
    }
}
