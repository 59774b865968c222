//! Reading a merged option map into plain Rust fields.

use serde_json::{Map, Value};

use super::validate::validate_options;
use crate::ApiError;

/// Model options with every field optional: `None` means "not given", so
/// callers apply their own defaults (Ollama's are in spec §3.1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    // Load-time ("runner") options.
    pub num_ctx: Option<i64>,
    pub num_batch: Option<i64>,
    pub num_thread: Option<i64>,
    pub num_gpu: Option<i64>,
    pub main_gpu: Option<i64>,
    pub use_mmap: Option<bool>,
    pub draft_num_predict: Option<i64>,
    // Per-request ("predict") options.
    pub num_keep: Option<i64>,
    pub seed: Option<i64>,
    pub num_predict: Option<i64>,
    pub top_k: Option<i64>,
    pub top_p: Option<f32>,
    pub min_p: Option<f32>,
    pub typical_p: Option<f32>,
    pub repeat_last_n: Option<i64>,
    pub temperature: Option<f32>,
    pub repeat_penalty: Option<f32>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
    /// Stop sequences; empty when none were given.
    pub stop: Vec<String>,
}

impl Options {
    /// Validate `map` (see [`validate_options`]) and read it. Unknown keys,
    /// removed options and `null` values are ignored.
    pub fn from_map(map: &Map<String, Value>) -> Result<Options, ApiError> {
        validate_options(map)?;
        let mut options = Options::default();
        for (key, value) in map.iter().filter(|(_, v)| !v.is_null()) {
            options.set(key, value);
        }
        Ok(options)
    }

    /// Store one already-validated value.
    fn set(&mut self, key: &str, value: &Value) {
        match key {
            "num_ctx" => self.num_ctx = int(value),
            "num_batch" => self.num_batch = int(value),
            "num_thread" => self.num_thread = int(value),
            "num_gpu" => self.num_gpu = int(value),
            "main_gpu" => self.main_gpu = int(value),
            "use_mmap" => self.use_mmap = value.as_bool(),
            "draft_num_predict" => self.draft_num_predict = int(value),
            "num_keep" => self.num_keep = int(value),
            "seed" => self.seed = int(value),
            "num_predict" => self.num_predict = int(value),
            "top_k" => self.top_k = int(value),
            "top_p" => self.top_p = float(value),
            "min_p" => self.min_p = float(value),
            "typical_p" => self.typical_p = float(value),
            "repeat_last_n" => self.repeat_last_n = int(value),
            "temperature" => self.temperature = float(value),
            "repeat_penalty" => self.repeat_penalty = float(value),
            "presence_penalty" => self.presence_penalty = float(value),
            "frequency_penalty" => self.frequency_penalty = float(value),
            "stop" => self.stop = strings(value),
            _ => {}
        }
    }
}

/// Overlay `overrides` onto `base`: later layers win, but `null` in an
/// override does not erase the base value (Ollama skips nulls). Use it to
/// build defaults → model parameters → request options.
pub fn merge_options(base: &mut Map<String, Value>, overrides: &Map<String, Value>) {
    for (key, value) in overrides.iter().filter(|(_, v)| !v.is_null()) {
        base.insert(key.clone(), value.clone());
    }
}

/// JSON numbers become integers by truncation toward zero, as Go's
/// `int64(float64)` conversion does.
fn int(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f.trunc() as i64))
}

fn float(value: &Value) -> Option<f32> {
    value.as_f64().map(|f| f as f32)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reads_typed_fields() {
        let o = Options::from_map(&map(json!({
            "num_ctx": 2048.9, "num_gpu": -1, "use_mmap": true, "temperature": 0.5,
            "top_k": 40, "stop": ["</s>", "\n"], "seed": null, "mirostat": 2,
            "draft_num_predict": 4
        })))
        .unwrap();
        assert_eq!(o.num_ctx, Some(2048));
        assert_eq!(o.num_gpu, Some(-1));
        assert_eq!(o.use_mmap, Some(true));
        assert_eq!(o.temperature, Some(0.5));
        assert_eq!(o.top_k, Some(40));
        assert_eq!(o.stop, vec!["</s>".to_string(), "\n".to_string()]);
        assert_eq!(o.seed, None);
        assert_eq!(o.draft_num_predict, Some(4));
        assert_eq!(o.top_p, None);
    }

    #[test]
    fn negative_fractions_truncate_toward_zero() {
        let o = Options::from_map(&map(json!({"num_predict": -1.7}))).unwrap();
        assert_eq!(o.num_predict, Some(-1));
    }

    #[test]
    fn rejects_bad_types() {
        let err = Options::from_map(&map(json!({"num_ctx": "big"}))).unwrap_err();
        assert_eq!(err.message, r#"option "num_ctx" must be of type integer"#);
    }

    #[test]
    fn merge_prefers_later_non_null_values() {
        let mut base = map(json!({"temperature": 0.8, "stop": ["a"], "top_k": 40}));
        merge_options(&mut base, &map(json!({"temperature": 0.1, "top_k": null})));
        assert_eq!(
            Value::Object(base),
            json!({"temperature": 0.1, "stop": ["a"], "top_k": 40})
        );
    }
}
