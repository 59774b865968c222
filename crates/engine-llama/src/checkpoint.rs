//! Sliding-window checkpoints: how a slot of a sliding-window model (Gemma
//! 2 and 3, Cohere 2, …) keeps its prompt cache across turns.
//!
//! Those models keep most layers' keys and values only for the last
//! `window` positions (llama.cpp's SWA cache, not the full-size one, which
//! costs several times the memory on big models). Once a slot has moved on
//! past the window, a cached prefix that ends earlier cannot be resumed from
//! the cache alone: the sliding layers no longer hold the positions the next
//! token attends to. So when a prompt finishes prefilling, the slot's
//! sliding-window state is copied aside (llama.cpp's partial sequence
//! state); a later request whose prefix reaches that point restores it and
//! prefills only what follows — a chat that grew by one turn re-reads the
//! turn, not the whole history. llama-server keeps "context checkpoints"
//! for the same reason.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::LlamaStateSeqFlags;
use llama_cpp_2::SeqState;

use crate::loaded::LlamaLoaded;

/// Checkpoints kept per slot; the oldest goes first. One serves a chat that
/// grows turn by turn; a second covers a retried or edited last turn.
const PER_SLOT: usize = 2;

/// Prompts shorter than this are cheap to prefill again: no checkpoint.
const MIN_PROMPT: usize = 32;

/// The sliding-window state of one slot after positions `pos_min..=pos_max`.
pub(crate) struct Checkpoint {
    pos_min: i32,
    pos_max: i32,
    state: SeqState,
}

/// The attention window of a sliding-window model, from its GGUF metadata.
pub(crate) fn window_of(model: &LlamaModel) -> Option<u32> {
    let arch = model.meta_val_str("general.architecture").ok()?;
    let window = model
        .meta_val_str(&format!("{arch}.attention.sliding_window"))
        .ok()?
        .parse::<u32>()
        .ok()?;
    (window > 0).then_some(window)
}

/// Whether slot `seq` may go on after its first `n` cached positions, given
/// the oldest position its cache still holds: every position the next token
/// attends to must be there (llama-server's rule, a token of slack kept).
pub(crate) fn window_holds(window: Option<u32>, pos_min: i32, n: usize) -> bool {
    if pos_min <= 0 {
        return true;
    }
    window.is_some_and(|w| pos_min as i64 <= n as i64 - i64::from(w))
}

/// Copies slot `seq`'s sliding-window state aside after a prompt of
/// `prompt_len` tokens, when the model has such a state worth keeping.
pub(crate) fn take(m: &mut LlamaLoaded, seq: usize, prompt_len: usize) {
    if m.window.is_none() || prompt_len < MIN_PROMPT || !has_partial_state(m, seq) {
        return;
    }
    let id = seq as i32;
    let (pos_min, pos_max) = (
        m.ctx.kv_cache_seq_pos_min(id),
        m.ctx.kv_cache_seq_pos_max(id),
    );
    let list = &mut m.seqs[seq].checkpoints;
    if pos_min < 0 || list.iter().any(|c| c.pos_max == pos_max) {
        return;
    }
    match m.ctx.state_seq_get(id, LlamaStateSeqFlags::PARTIAL_ONLY) {
        Ok(state) => {
            if list.len() == PER_SLOT {
                list.remove(0);
            }
            tracing::debug!(
                seq,
                pos_min,
                pos_max,
                bytes = state.byte_len(),
                "checkpoint taken"
            );
            list.push(Checkpoint {
                pos_min,
                pos_max,
                state,
            });
        }
        Err(e) => tracing::debug!(seq, error = %e, "no checkpoint"),
    }
}

/// Restores the checkpoint of slot `seq` that lets it reuse the most of a
/// cached prefix of `lcp` tokens. Returns how many tokens the slot may then
/// keep; the caller drops the rest. `None`: no checkpoint fits (the slot's
/// sliding-window cache may be gone then, so the caller starts it afresh).
pub(crate) fn restore(m: &mut LlamaLoaded, seq: usize, lcp: usize) -> Option<usize> {
    let window = m.window?;
    let (n, best) = m.seqs[seq]
        .checkpoints
        .iter()
        .map(|c| (lcp.min(c.pos_max as usize + 1), c))
        .filter(|&(n, c)| n > 0 && window_holds(Some(window), c.pos_min, n))
        .max_by_key(|&(n, _)| n)?;
    match m.ctx.state_seq_set(&best.state, seq as i32) {
        Ok(()) => {
            tracing::debug!(seq, reuse = n, "checkpoint restored");
            Some(n)
        }
        Err(e) => {
            // A fragmented unified cache may lack room for the cells in
            // one piece; prefilling again is slower, never wrong.
            tracing::debug!(seq, error = %e, "checkpoint not restored");
            None
        }
    }
}

/// Whether llama.cpp keeps a separate, smaller state for the sliding layers
/// of this context (an SWA cache). Some architectures carry the window in
/// their metadata and still use one plain cache: a "partial" state would
/// then be a full copy, pointless to keep. Asked once per loaded model.
fn has_partial_state(m: &mut LlamaLoaded, seq: usize) -> bool {
    *m.partial_state
        .get_or_insert_with(|| partial_smaller(&m.ctx, seq as i32))
}

fn partial_smaller(ctx: &LlamaContext<'_>, seq: i32) -> bool {
    let partial = ctx.state_seq_get_size_ext(seq, LlamaStateSeqFlags::PARTIAL_ONLY);
    let full = ctx.state_seq_get_size_ext(seq, LlamaStateSeqFlags::empty());
    partial < full
}

impl Checkpoint {
    /// The last position the checkpoint covers.
    pub(crate) fn pos_max(&self) -> i32 {
        self.pos_max
    }
}

#[cfg(test)]
mod tests {
    use super::window_holds;

    #[test]
    fn a_cache_that_still_holds_position_zero_always_resumes() {
        assert!(window_holds(None, 0, 900));
        assert!(window_holds(Some(512), 0, 10));
    }

    #[test]
    fn a_sliding_cache_resumes_only_while_the_window_is_covered() {
        // 1,000 cached tokens, window 512: the next token needs 488.. on.
        assert!(window_holds(Some(512), 488, 1000));
        assert!(!window_holds(Some(512), 489, 1000));
        // A prefix shorter than the window needs position 0 itself.
        assert!(!window_holds(Some(512), 1, 400));
    }

    #[test]
    fn a_plain_cache_that_lost_its_start_never_resumes() {
        assert!(!window_holds(None, 5, 1000));
    }
}
