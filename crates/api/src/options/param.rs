//! Typing a parameter given as text (Modelfile `PARAMETER`, the CLI's
//! `/set parameter`), like Ollama's `api.FormatParams`.

use serde_json::Value;

use super::table::{spec, OptionKind};
use crate::{env::parse_go_bool, ApiError};

/// Convert the text `raw` of parameter `name` to its JSON value.
///
/// Errors (status 400) use Ollama's texts: `unknown parameter '<name>'`,
/// `invalid float value [<raw>]`, `invalid int value [<raw>]`,
/// `invalid bool value [<raw>]`. A `stop` value comes back as a one-element
/// array; callers that see the parameter repeated append to it. Removed
/// options are unknown here; check
/// [`MODELFILE_DEPRECATED`](super::MODELFILE_DEPRECATED) first if they should
/// only warn.
pub fn parse_param(name: &str, raw: &str) -> Result<Value, ApiError> {
    let spec =
        spec(name).ok_or_else(|| ApiError::bad_request(format!("unknown parameter '{name}'")))?;
    match spec.kind {
        OptionKind::Float => parse_float(raw).ok_or_else(|| invalid("float", raw)),
        OptionKind::Int => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| invalid("int", raw)),
        OptionKind::Bool => parse_go_bool(raw)
            .map(Value::Bool)
            .ok_or_else(|| invalid("bool", raw)),
        OptionKind::String => Ok(Value::String(raw.to_string())),
        OptionKind::StringArray => Ok(Value::Array(vec![Value::String(raw.to_string())])),
    }
}

/// Parse as a Go `float32` and encode it the way Go's JSON encoder writes
/// a float32: shortest digits (`0.7`, not `0.699999988079071`) and no
/// trailing `.0` on whole numbers.
fn parse_float(raw: &str) -> Option<Value> {
    let value = raw.parse::<f32>().ok().filter(|f| f.is_finite())?;
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        return Some(Value::from(value as i64));
    }
    // f32's Display is the shortest text that round-trips, so re-reading it
    // as f64 keeps the digits the user wrote.
    let widened: f64 = value.to_string().parse().ok()?;
    serde_json::Number::from_f64(widened).map(Value::Number)
}

/// Go prints the `[]string` holding the value, hence the brackets.
fn invalid(kind: &str, raw: &str) -> ApiError {
    ApiError::bad_request(format!("invalid {kind} value [{raw}]"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_values_by_the_table() {
        assert_eq!(parse_param("temperature", "0.7").unwrap(), json!(0.7));
        assert_eq!(parse_param("temperature", "1").unwrap(), json!(1));
        assert_eq!(parse_param("top_p", ".5").unwrap(), json!(0.5));
        assert_eq!(parse_param("num_ctx", "4096").unwrap(), json!(4096));
        assert_eq!(parse_param("seed", "-1").unwrap(), json!(-1));
        assert_eq!(parse_param("use_mmap", "T").unwrap(), json!(true));
        assert_eq!(parse_param("main_gpu", "1").unwrap(), json!(1));
        assert_eq!(parse_param("stop", "<|eot|>").unwrap(), json!(["<|eot|>"]));
    }

    #[test]
    fn error_texts_match_ollama() {
        let msg = |n, v| parse_param(n, v).unwrap_err().message;
        assert_eq!(msg("temperature", "hot"), "invalid float value [hot]");
        assert_eq!(msg("temperature", "1e39"), "invalid float value [1e39]");
        assert_eq!(msg("num_ctx", "4k"), "invalid int value [4k]");
        assert_eq!(msg("num_ctx", "1.5"), "invalid int value [1.5]");
        assert_eq!(msg("use_mmap", "yes"), "invalid bool value [yes]");
        assert_eq!(msg("bogus", "1"), "unknown parameter 'bogus'");
        assert_eq!(msg("tfs_z", "1"), "unknown parameter 'tfs_z'");
        assert_eq!(msg("Temperature", "1"), "unknown parameter 'Temperature'");
    }
}
