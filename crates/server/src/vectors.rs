//! What `/api/embed` does to a model's vectors before answering: scale to
//! unit length (L2), then optionally keep only the first `dimensions`
//! values and scale again, refusing NaN and infinities as Ollama does.

use crate::error::ApiError;

/// Ollama's message for a vector it cannot normalise.
const NOT_FINITE: &str = "embedding contains NaN or Inf values";

/// Normalises `v`, cuts it to `dimensions` when that is positive and
/// shorter than `v`, and normalises the cut vector again.
pub fn finish(mut v: Vec<f32>, dimensions: i64) -> Result<Vec<f32>, ApiError> {
    normalize(&mut v)?;
    if let Ok(d) = usize::try_from(dimensions) {
        if d > 0 && d < v.len() {
            v.truncate(d);
            normalize(&mut v)?;
        }
    }
    Ok(v)
}

/// Scales `v` to unit length. An all-zero vector stays all zeros.
fn normalize(v: &mut [f32]) -> Result<(), ApiError> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(ApiError::bad_request(NOT_FINITE));
    }
    let sum: f64 = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    let scale = (1.0 / sum.sqrt().max(1e-12)) as f32;
    for x in v.iter_mut() {
        *x *= scale;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[f32]) -> f32 {
        v.iter().map(|x| x * x).sum::<f32>().sqrt()
    }

    #[test]
    fn vectors_come_out_unit_length() {
        let v = finish(vec![3.0, 4.0], 0).unwrap();
        assert_eq!(v, vec![0.6, 0.8]);
        assert_eq!(finish(vec![0.0, 0.0], 0).unwrap(), vec![0.0, 0.0]);
    }

    #[test]
    fn dimensions_cut_and_renormalise() {
        let v = finish(vec![1.0, 1.0, 5.0, 7.0], 2).unwrap();
        assert_eq!(v.len(), 2);
        assert!((norm(&v) - 1.0).abs() < 1e-6);
        assert!((v[0] - v[1]).abs() < 1e-7);
        // Not smaller than the vector, or not positive: ignored.
        assert_eq!(finish(vec![3.0, 4.0], 2).unwrap().len(), 2);
        assert_eq!(finish(vec![3.0, 4.0], 9).unwrap().len(), 2);
        assert_eq!(finish(vec![3.0, 4.0], -1).unwrap().len(), 2);
    }

    #[test]
    fn nan_and_infinity_are_refused() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let err = finish(vec![1.0, bad], 0).unwrap_err();
            assert_eq!(err.status, 400);
            assert_eq!(err.message, NOT_FINITE);
        }
    }
}
