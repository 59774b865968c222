//! Type-checking an `options` object the way Ollama's `Options.FromMap`
//! does, with its exact error texts.

use serde_json::{Map, Value};

use super::table::{spec, OptionKind};
use crate::{gostr, ApiError};

/// Check every known option in `options` has the right JSON type.
///
/// `null` values and unknown keys (including removed options such as
/// `mirostat`) are skipped, as Ollama skips them. Numbers with a fraction are
/// accepted for integer options (they are truncated when read). Errors carry
/// status 500, which is what Ollama answers (the check runs while scheduling),
/// and texts such as `option "num_ctx" must be of type integer`.
pub fn validate_options(options: &Map<String, Value>) -> Result<(), ApiError> {
    options
        .iter()
        .try_for_each(|(key, value)| validate_option(key, value))
}

/// Check a single option; see [`validate_options`].
pub fn validate_option(key: &str, value: &Value) -> Result<(), ApiError> {
    let Some(spec) = spec(key) else {
        return Ok(());
    };
    if value.is_null() {
        return Ok(());
    }
    let matches = match spec.kind {
        OptionKind::Int | OptionKind::Float => value.is_number(),
        OptionKind::Bool => value.is_boolean(),
        OptionKind::String => value.is_string(),
        OptionKind::StringArray => return check_string_array(key, value),
    };
    if matches {
        Ok(())
    } else {
        Err(type_error(key, spec.kind.go_name()))
    }
}

fn check_string_array(key: &str, value: &Value) -> Result<(), ApiError> {
    let items = value
        .as_array()
        .ok_or_else(|| type_error(key, OptionKind::StringArray.go_name()))?;
    if items.iter().all(Value::is_string) {
        Ok(())
    } else {
        Err(ApiError::internal(format!(
            "option {} must be of an array of strings",
            gostr::quote(key)
        )))
    }
}

fn type_error(key: &str, type_name: &str) -> ApiError {
    ApiError::internal(format!(
        "option {} must be of type {type_name}",
        gostr::quote(key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<(), ApiError> {
        validate_options(v.as_object().unwrap())
    }

    fn message(v: Value) -> String {
        check(v).unwrap_err().message
    }

    #[test]
    fn accepts_good_values_and_ignores_the_rest() {
        check(json!({
            "num_ctx": 2048.9, "temperature": 1, "use_mmap": false,
            "stop": ["a", "b"], "seed": null, "mirostat": "whatever",
            "unknown": [1, 2], "main_gpu": 0
        }))
        .unwrap();
    }

    #[test]
    fn exact_error_texts() {
        assert_eq!(
            message(json!({"num_ctx": "big"})),
            r#"option "num_ctx" must be of type integer"#
        );
        assert_eq!(
            message(json!({"temperature": "hot"})),
            r#"option "temperature" must be of type float32"#
        );
        assert_eq!(
            message(json!({"use_mmap": 1})),
            r#"option "use_mmap" must be of type boolean"#
        );
        assert_eq!(
            message(json!({"stop": "x"})),
            r#"option "stop" must be of type array"#
        );
        assert_eq!(
            message(json!({"stop": ["x", 1]})),
            r#"option "stop" must be of an array of strings"#
        );
        assert_eq!(check(json!({"top_k": true})).unwrap_err().status, Some(500));
    }
}
