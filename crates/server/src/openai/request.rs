//! Translation shared by the OpenAI routes: sampling fields → native
//! `options`, `stop`, `reasoning_effort` → `think`, `response_format` →
//! `format`, and Go's names for JSON types (Ollama's error texts use them).

use hearth_api::openai::ResponseFormat;
use serde_json::{json, Map, Value};

use crate::error::ApiError;

/// The sampling fields every OpenAI request shares.
#[derive(Debug, Default)]
pub struct Sampling {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<i64>,
    pub seed: Option<i64>,
    pub frequency_penalty: Option<f64>,
    pub presence_penalty: Option<f64>,
    pub stop: Vec<String>,
}

impl Sampling {
    /// Native `options`. OpenAI's defaults for `temperature` and `top_p`
    /// are 1.0, not the model's, so they are always sent (C-142).
    pub fn options(&self) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("temperature".into(), json!(self.temperature.unwrap_or(1.0)));
        o.insert("top_p".into(), json!(self.top_p.unwrap_or(1.0)));
        put(&mut o, "num_predict", self.max_tokens);
        put(&mut o, "seed", self.seed);
        put(&mut o, "frequency_penalty", self.frequency_penalty);
        put(&mut o, "presence_penalty", self.presence_penalty);
        if !self.stop.is_empty() {
            o.insert("stop".into(), json!(self.stop));
        }
        o
    }
}

fn put<T: Into<Value>>(o: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        o.insert(key.to_string(), v.into());
    }
}

/// Chat's `stop`: a string or an array; non-strings in the array are
/// dropped, as Ollama drops them.
pub fn stop_lenient(stop: Option<&Value>) -> Vec<String> {
    match stop {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Completions' `stop`: anything but strings is refused
/// (`invalid type for 'stop' field: float64`).
pub fn stop_strict(stop: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let refuse =
        |v: &Value| ApiError::bad_request(format!("invalid type for 'stop' field: {}", go_type(v)));
    match stop {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| refuse(v)))
            .collect(),
        Some(other) => Err(refuse(other)),
    }
}

/// `reasoning_effort` (or `reasoning.effort`) as a native `think` value
/// (C-148): `none` turns thinking off, `minimal` is `low`, `xhigh` and
/// `ultra` are `max`, and `""` leaves it unset.
pub fn think(effort: Option<&str>) -> Result<Option<Value>, ApiError> {
    let think = match effort {
        None | Some("") => return Ok(None),
        Some("none") => json!(false),
        Some("minimal") => json!("low"),
        Some(level @ ("low" | "medium" | "high" | "max")) => json!(level),
        Some("xhigh" | "ultra") => json!("max"),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid reasoning value: \"{other}\" (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")"
            )))
        }
    };
    Ok(Some(think))
}

/// `response_format` as a native `format`: `json_object` is any JSON,
/// `json_schema` its schema (which the engine enforces with a grammar).
pub fn format(rf: Option<&ResponseFormat>) -> Result<Option<Value>, ApiError> {
    let Some(rf) = rf else { return Ok(None) };
    match rf.kind.as_str() {
        "" | "text" => Ok(None),
        "json_object" => Ok(Some(json!("json"))),
        "json_schema" => Ok(Some(
            rf.json_schema
                .as_ref()
                .and_then(|j| j.schema.clone())
                .unwrap_or_else(|| json!("json")),
        )),
        other => Err(ApiError::bad_request(format!(
            "invalid response_format type: \"{other}\" (must be \"text\", \"json_object\" or \"json_schema\")"
        ))),
    }
}

/// The Go type name Ollama's messages print for a decoded JSON value.
pub fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_openai_s() {
        let o = Sampling::default().options();
        assert_eq!(o["temperature"], 1.0);
        assert_eq!(o["top_p"], 1.0);
        assert!(!o.contains_key("num_predict") && !o.contains_key("stop"));
        let o = Sampling {
            temperature: Some(0.0),
            max_tokens: Some(5),
            stop: vec!["x".into()],
            ..Sampling::default()
        }
        .options();
        assert_eq!(o["temperature"], 0.0);
        assert_eq!(o["num_predict"], 5);
        assert_eq!(o["stop"], json!(["x"]));
    }

    #[test]
    fn stops() {
        assert_eq!(stop_lenient(Some(&json!("a"))), vec!["a"]);
        assert_eq!(stop_lenient(Some(&json!(["a", 1, "b"]))), vec!["a", "b"]);
        assert_eq!(
            stop_strict(Some(&json!(["a", 1.5]))).unwrap_err().message,
            "invalid type for 'stop' field: float64"
        );
    }

    #[test]
    fn reasoning_effort_maps_to_think() {
        assert_eq!(think(Some("none")).unwrap(), Some(json!(false)));
        assert_eq!(think(Some("minimal")).unwrap(), Some(json!("low")));
        assert_eq!(think(Some("xhigh")).unwrap(), Some(json!("max")));
        assert_eq!(think(Some("")).unwrap(), None);
        assert_eq!(
            think(Some("bogus")).unwrap_err().message,
            r#"invalid reasoning value: "bogus" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")"#
        );
    }

    #[test]
    fn response_formats() {
        let rf: ResponseFormat = serde_json::from_value(
            json!({"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}),
        )
        .unwrap();
        assert_eq!(format(Some(&rf)).unwrap(), Some(json!({"type": "object"})));
        let rf: ResponseFormat = serde_json::from_value(json!({"type": "json_object"})).unwrap();
        assert_eq!(format(Some(&rf)).unwrap(), Some(json!("json")));
        let rf: ResponseFormat = serde_json::from_value(json!({"type": "xml"})).unwrap();
        assert!(format(Some(&rf)).is_err());
    }
}
