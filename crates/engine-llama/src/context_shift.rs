//! Context shift: how a generation goes on once its slot's context is full.
//!
//! As Ollama does (`shift`, on by default), the first `num_keep` tokens
//! stay (BOS, the start of the system prompt), the older half of the rest
//! is dropped from the KV cache, and the newer half slides down into its
//! place: llama.cpp re-rotates the moved keys (RoPE is relative, so they
//! mean the same to the tokens after them). The model forgets the middle of
//! a very long generation, never its instructions, and never stops short.
//! Models whose positions are not a single RoPE index (multi-section RoPE
//! of Qwen-VL-style models) or that have no RoPE at all cannot be shifted;
//! neither can a slot holding image positions. Those end with "length".

use llama_cpp_2::model::RopeType;

use crate::loaded::LlamaLoaded;
use crate::vision::IMAGE_POSITION;

/// Frees about half of slot `seq`'s context. Returns false, changing
/// nothing, when it cannot be shifted.
pub(crate) fn make_room(m: &mut LlamaLoaded, seq: usize, num_keep: u32) -> bool {
    if !can_shift(m) || m.seqs[seq].tokens.contains(&IMAGE_POSITION) {
        return false;
    }
    let n_past = m.seqs[seq].tokens.len();
    let keep = (num_keep as usize).min(n_past / 2);
    let discard = (n_past - keep) / 2;
    if discard == 0 {
        return false;
    }
    let id = seq as i32;
    let (from, to) = (keep as u32, (keep + discard) as u32);
    if m.ctx.kv_cache_seq_rm(id, Some(from), Some(to)).is_err() {
        return false;
    }
    if m.ctx
        .kv_cache_seq_add(id, Some(to), None, -(discard as i32))
        .is_err()
    {
        // Positions out of range cannot happen below `n_ctx`; should it,
        // the slot's cache is half moved: forget it rather than trust it.
        let _ = m.ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
        m.seqs[seq].clear();
        return false;
    }
    m.seqs[seq].remove(keep..keep + discard);
    tracing::debug!(seq, keep, discard, "context shifted");
    true
}

/// Whether llama.cpp can move this model's cached keys (its K-shift).
fn can_shift(m: &LlamaLoaded) -> bool {
    let single_rope = matches!(m.model.rope_type(), Some(RopeType::Norm | RopeType::NeoX));
    let arch = m
        .model
        .meta_val_str("general.architecture")
        .unwrap_or_default();
    // Step-3.5 uses per-layer RoPE sizes, which llama.cpp's K-shift refuses.
    single_rope && arch != "step35"
}
