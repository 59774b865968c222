//! The `format` request field (spec §3.3): `"json"` or a JSON schema.

use serde_json::{Map, Value};

use crate::{gostr, ApiError};

/// A validated structured-output request.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputFormat {
    /// `"json"`: any JSON value (generic JSON grammar).
    Json,
    /// A JSON-schema object to constrain decoding with.
    Schema(Map<String, Value>),
}

impl OutputFormat {
    /// Validate a `format` value. `null` and `""` are "not set"
    /// (`Ok(None)`). Anything but `"json"` or an object fails with status 500
    /// and Ollama's text, e.g.
    /// `invalid format: "123"; expected "json" or a valid JSON Schema object`.
    pub fn from_value(value: &Value) -> Result<Option<OutputFormat>, ApiError> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) if s == "json" => Ok(Some(OutputFormat::Json)),
            Value::Object(schema) => Ok(Some(OutputFormat::Schema(schema.clone()))),
            other => Err(ApiError::internal(format!(
                "invalid format: {}; expected \"json\" or a valid JSON Schema object",
                gostr::quote(&other.to_string())
            ))),
        }
    }

    /// [`OutputFormat::from_value`] for an optional request field.
    pub fn from_request(value: Option<&Value>) -> Result<Option<OutputFormat>, ApiError> {
        value.map_or(Ok(None), OutputFormat::from_value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recognises_formats() {
        assert_eq!(OutputFormat::from_value(&json!(null)).unwrap(), None);
        assert_eq!(OutputFormat::from_value(&json!("")).unwrap(), None);
        assert_eq!(
            OutputFormat::from_value(&json!("json")).unwrap(),
            Some(OutputFormat::Json)
        );
        let schema = json!({"type": "object"});
        assert_eq!(
            OutputFormat::from_value(&schema).unwrap(),
            Some(OutputFormat::Schema(schema.as_object().unwrap().clone()))
        );
    }

    #[test]
    fn error_text_quotes_the_raw_json() {
        let err = OutputFormat::from_value(&json!(123)).unwrap_err();
        assert_eq!(
            err.message,
            r#"invalid format: "123"; expected "json" or a valid JSON Schema object"#
        );
        assert_eq!(err.status, Some(500));
        let err = OutputFormat::from_value(&json!("xml")).unwrap_err();
        assert_eq!(
            err.message,
            r#"invalid format: "\"xml\""; expected "json" or a valid JSON Schema object"#
        );
    }
}
