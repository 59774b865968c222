//! The `think` request field (spec §3.4): a boolean or a reasoning level.

use serde_json::Value;

use crate::{gostr, ApiError};

/// Reasoning effort requested with a string `think`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkLevel {
    Low,
    Medium,
    High,
    Max,
}

impl ThinkLevel {
    /// The wire spelling (`"low"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkLevel::Low => "low",
            ThinkLevel::Medium => "medium",
            ThinkLevel::High => "high",
            ThinkLevel::Max => "max",
        }
    }

    fn parse(text: &str) -> Option<ThinkLevel> {
        Some(match text {
            "low" => ThinkLevel::Low,
            "medium" => ThinkLevel::Medium,
            "high" => ThinkLevel::High,
            "max" => ThinkLevel::Max,
            _ => return None,
        })
    }
}

/// A validated `think` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Think {
    /// `true` or `false`.
    Bool(bool),
    /// `"low"`, `"medium"`, `"high"` or `"max"`.
    Level(ThinkLevel),
}

impl Think {
    /// Validate a `think` value; `null` is "not set" (`Ok(None)`).
    ///
    /// Errors are status 400 with Ollama's texts:
    /// `invalid think value: "x" (must be "high", "medium", "low", "max", true, or false)`
    /// and `think must be a boolean or string (...)` for other JSON types.
    pub fn from_value(value: &Value) -> Result<Option<Think>, ApiError> {
        match value {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(Think::Bool(*b))),
            Value::String(s) => ThinkLevel::parse(s)
                .map(|level| Some(Think::Level(level)))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "invalid think value: {} (must be \"high\", \"medium\", \"low\", \"max\", true, or false)",
                        gostr::quote(s)
                    ))
                }),
            _ => Err(ApiError::bad_request(
                "think must be a boolean or string (\"high\", \"medium\", \"low\", \"max\", true, or false)",
            )),
        }
    }

    /// [`Think::from_value`] for an optional request field.
    pub fn from_request(value: Option<&Value>) -> Result<Option<Think>, ApiError> {
        value.map_or(Ok(None), Think::from_value)
    }

    /// Whether thinking is on (`true` or any level).
    pub fn enabled(self) -> bool {
        !matches!(self, Think::Bool(false))
    }

    /// The level templates see as `.ThinkLevel`: `true` means `medium`,
    /// `false` means none.
    pub fn level(self) -> Option<ThinkLevel> {
        match self {
            Think::Bool(true) => Some(ThinkLevel::Medium),
            Think::Bool(false) => None,
            Think::Level(level) => Some(level),
        }
    }

    /// The JSON form.
    pub fn to_value(self) -> Value {
        match self {
            Think::Bool(b) => Value::Bool(b),
            Think::Level(level) => Value::String(level.as_str().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_bools_and_levels() {
        assert_eq!(Think::from_value(&json!(null)).unwrap(), None);
        assert_eq!(
            Think::from_value(&json!(true)).unwrap(),
            Some(Think::Bool(true))
        );
        let max = Think::from_value(&json!("max")).unwrap().unwrap();
        assert_eq!(max, Think::Level(ThinkLevel::Max));
        assert_eq!(max.to_value(), json!("max"));
        assert_eq!(Think::Bool(true).level(), Some(ThinkLevel::Medium));
        assert!(!Think::Bool(false).enabled());
    }

    #[test]
    fn error_texts_match_ollama() {
        let err = Think::from_value(&json!("bogus")).unwrap_err();
        assert_eq!(
            err.message,
            r#"invalid think value: "bogus" (must be "high", "medium", "low", "max", true, or false)"#
        );
        assert_eq!(err.status, Some(400));
        assert_eq!(
            Think::from_value(&json!(1)).unwrap_err().message,
            r#"think must be a boolean or string ("high", "medium", "low", "max", true, or false)"#
        );
    }
}
