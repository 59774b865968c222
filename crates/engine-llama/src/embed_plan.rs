//! The arithmetic of embedding batches, kept apart from llama.cpp so it can
//! be tested on its own: how many sequences a batch holds, how inputs are
//! cut to the context, and how inputs are grouped into batches.

use std::ops::Range;

use hearth_engine::EngineError;

/// Most sequences in one embedding batch. More saves little once a batch
/// is this wide, and each one costs a row in the pooling matrices.
pub const MAX_SEQS: u32 = 32;

/// Ollama's message for an input that does not fit and may not be cut.
pub const TOO_LONG: &str = "the input length exceeds the context length";

/// Sequences per batch for a micro-batch of `n_tokens`: the largest power
/// of two up to [`MAX_SEQS`] that divides it (llama.cpp aborts otherwise).
pub fn seq_max_for(n_tokens: u32) -> u32 {
    let mut seqs = MAX_SEQS;
    while seqs > 1 && !n_tokens.is_multiple_of(seqs) {
        seqs /= 2;
    }
    seqs
}

/// Fits one input's tokens into `limit`: unchanged when short enough, else
/// cut (keeping a closing special token such as BERT's `[SEP]` when
/// `keep_last`) or refused when `truncate` is off.
pub fn fit<T: Copy>(
    mut tokens: Vec<T>,
    limit: usize,
    truncate: bool,
    keep_last: bool,
) -> Result<Vec<T>, EngineError> {
    if tokens.len() <= limit {
        return Ok(tokens);
    }
    if !truncate || limit == 0 {
        return Err(EngineError::InvalidRequest(TOO_LONG.into()));
    }
    let last = *tokens.last().expect("longer than limit, so not empty");
    tokens.truncate(limit);
    if keep_last && limit > 1 {
        tokens[limit - 1] = last;
    }
    Ok(tokens)
}

/// Groups sequences of `lens` tokens, in order, into batches of at most
/// `max_tokens` tokens and `max_seqs` sequences. Every length must be at
/// most `max_tokens` (see [`fit`]).
pub fn batches(lens: &[usize], max_tokens: usize, max_seqs: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut tokens) = (0, 0);
    for (i, &len) in lens.iter().enumerate() {
        let full = i > start && (tokens + len > max_tokens || i - start == max_seqs);
        if full {
            out.push(start..i);
            start = i;
            tokens = 0;
        }
        tokens += len;
    }
    if start < lens.len() {
        out.push(start..lens.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_max_divides_the_micro_batch() {
        assert_eq!(seq_max_for(512), 32);
        assert_eq!(seq_max_for(4096), 32);
        assert_eq!(seq_max_for(520), 8);
        assert_eq!(seq_max_for(6), 2);
        assert_eq!(seq_max_for(1001), 1);
        for n in 1u32..2000 {
            assert!(n.is_multiple_of(seq_max_for(n)), "{n}");
        }
    }

    #[test]
    fn short_inputs_are_untouched() {
        assert_eq!(fit(vec![1, 2, 3], 3, false, false).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn long_inputs_are_cut_or_refused() {
        assert_eq!(
            fit(vec![1, 2, 3, 4], 3, true, false).unwrap(),
            vec![1, 2, 3]
        );
        assert_eq!(fit(vec![1, 2, 3, 9], 3, true, true).unwrap(), vec![1, 2, 9]);
        let err = fit(vec![1, 2, 3, 4], 3, false, false).unwrap_err();
        assert_eq!(err, EngineError::InvalidRequest(TOO_LONG.into()));
    }

    #[test]
    fn batches_respect_both_limits_and_keep_order() {
        assert_eq!(batches(&[], 10, 4), Vec::<Range<usize>>::new());
        assert_eq!(batches(&[3, 3, 3, 3], 10, 4), vec![0..3, 3..4]);
        assert_eq!(batches(&[1, 1, 1, 1, 1], 10, 2), vec![0..2, 2..4, 4..5]);
        assert_eq!(batches(&[10, 1, 10], 10, 4), vec![0..1, 1..2, 2..3]);
        assert_eq!(batches(&[5, 5], 10, 4), vec![0..2]);
    }
}
