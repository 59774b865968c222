//! Log probabilities of generated tokens (`logprobs` / `top_logprobs`).
//!
//! They come from the raw logits at each sampled position through a
//! log-softmax, before any sampler (temperature, top-k, grammar) reshapes
//! the distribution: what the model thinks, not what the dice saw. Costs a
//! pass over the vocabulary per token, so engines compute them only when a
//! request asks.

use serde::{Deserialize, Serialize};

/// A candidate token at a generated position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The token's text as raw bytes: a token may hold part of a UTF-8
    /// character, and control tokens have none.
    pub bytes: Vec<u8>,
    pub logprob: f32,
}

/// A generated token's log probability and, when asked, the most likely
/// tokens at its position, most likely first (it may be among them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub token: Candidate,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<Candidate>,
}

/// Log-softmax over `logits`: the log probability of token `chosen` and
/// the `top` most likely tokens as `(id, logprob)`, most likely first, ties
/// by lower id.
pub fn compute(logits: &[f32], chosen: usize, top: usize) -> (f32, Vec<(usize, f32)>) {
    let lse = log_sum_exp(logits);
    let logprob = |l: f32| l - lse;
    let chosen_lp = logits
        .get(chosen)
        .map_or(f32::NEG_INFINITY, |&l| logprob(l));
    let best = top_k(logits, top)
        .into_iter()
        .map(|i| (i, logprob(logits[i])))
        .collect();
    (chosen_lp, best)
}

/// `ln(Σ exp(l))`, shifted by the maximum so nothing overflows.
fn log_sum_exp(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return max;
    }
    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
    max + sum.ln() as f32
}

/// Ids of the `k` largest logits, largest first. One pass with a small
/// sorted buffer: most logits lose against its smallest entry at once.
fn top_k(logits: &[f32], k: usize) -> Vec<usize> {
    let mut best: Vec<usize> = Vec::with_capacity(k + 1);
    if k == 0 {
        return best;
    }
    for (i, &l) in logits.iter().enumerate() {
        if best.len() == k && l <= logits[best[k - 1]] {
            continue;
        }
        // Strictly greater goes first, so an equal logit keeps the lower id
        // ahead of it.
        let at = best.partition_point(|&j| logits[j] >= l);
        best.insert(at, i);
        best.truncate(k);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn log_softmax_of_the_chosen_token() {
        let logits = [0.0, 0.0];
        let (lp, top) = compute(&logits, 1, 0);
        assert!(close(lp, (0.5f32).ln()));
        assert!(top.is_empty());
        let (lp, _) = compute(&[1000.0, 0.0], 0, 0);
        assert!(close(lp, 0.0), "{lp}");
    }

    #[test]
    fn top_tokens_are_most_likely_first_with_stable_ties() {
        let logits = [1.0, 3.0, 2.0, 3.0, -1.0];
        let (_, top) = compute(&logits, 0, 3);
        let ids: Vec<usize> = top.iter().map(|t| t.0).collect();
        assert_eq!(ids, vec![1, 3, 2]);
        let total: f32 = logits.iter().map(|&l| (l - 3.0f32).exp()).sum();
        assert!(close(top[0].1, -total.ln()));
        assert_eq!(compute(&logits, 0, 10).1.len(), logits.len());
    }

    #[test]
    fn probabilities_sum_to_one() {
        let logits: Vec<f32> = (0..50).map(|i| (i as f32 * 0.37).sin() * 4.0).collect();
        let (_, all) = compute(&logits, 0, logits.len());
        let sum: f32 = all.iter().map(|t| t.1.exp()).sum();
        assert!(close(sum, 1.0), "{sum}");
    }
}
