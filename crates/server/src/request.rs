//! Validation and translation shared by generate and chat: `keep_alive`,
//! `think`, `format`, `top_logprobs`, and the engine request built from a
//! resolved model.

use hearth_api::duration::KeepAlive;
use hearth_engine::template::TemplateInput;
use serde_json::Value;

use crate::error::ApiError;
use crate::model::{self, Resolved};
use crate::templates::{ModelFacts, PromptFormat};

/// Request fields common to generate and chat, validated.
pub struct Common {
    /// A JSON schema the output must match (`"json"` = any JSON).
    pub json_schema: Option<String>,
    /// Whether the model thinks before answering (thinking models only).
    pub think: bool,
    /// The requested level (`low`, `medium`, `high`, `max`), if any.
    pub think_level: Option<String>,
    /// Whether the request set `think`.
    pub think_set: bool,
}

impl Common {
    /// Validates `think` and `format` with Ollama's messages. A model that
    /// can think does so unless told `think: false`.
    pub fn parse(
        model: &str,
        can_think: bool,
        think: Option<&Value>,
        format: Option<&Value>,
    ) -> Result<Self, ApiError> {
        let (asked, level) = parse_think(think)?;
        if asked == Some(true) && !can_think {
            return Err(ApiError::bad_request(format!(
                "\"{model}\" does not support thinking"
            )));
        }
        Ok(Self {
            json_schema: json_schema(format)?,
            think: can_think && asked != Some(false),
            think_level: level,
            think_set: asked.is_some(),
        })
    }
}

/// Ollama's message for a prompt that cannot fit and may not be shifted.
pub const PROMPT_TOO_LONG: &str = "the prompt is longer than the context length currently available to the model; shorten the prompt, adjust the context length in settings, or use a model with a longer context length";

pub fn check_top_logprobs(top: i64) -> Result<(), ApiError> {
    match top {
        n if !(0..=20).contains(&n) => Err(ApiError::bad_request(
            "top_logprobs must be between 0 and 20",
        )),
        _ => Ok(()),
    }
}

pub fn keep_alive(value: Option<&Value>) -> Result<Option<KeepAlive>, ApiError> {
    KeepAlive::from_request(value).map_err(|e| ApiError::bad_request(e.to_string()))
}

pub fn to_scheduler(k: KeepAlive) -> hearth_scheduler::KeepAlive {
    match k.duration() {
        None => hearth_scheduler::KeepAlive::Forever,
        Some(d) => hearth_scheduler::KeepAlive::For(d),
    }
}

/// `think`: a boolean or a level string. Returns whether thinking was
/// asked for (`None` when unset) and the level.
fn parse_think(think: Option<&Value>) -> Result<(Option<bool>, Option<String>), ApiError> {
    match think {
        None | Some(Value::Null) => Ok((None, None)),
        Some(Value::Bool(b)) => Ok((Some(*b), None)),
        Some(Value::String(s)) => match s.as_str() {
            "high" | "medium" | "low" | "max" => Ok((Some(true), Some(s.clone()))),
            other => Err(ApiError::bad_request(format!(
                "invalid think value: \"{other}\" (must be \"high\", \"medium\", \"low\", \"max\", true, or false)"
            ))),
        },
        Some(_) => Err(ApiError::bad_request(
            "think must be a boolean or string (\"high\", \"medium\", \"low\", \"max\", true, or false)",
        )),
    }
}

/// `format`: unset, `"json"`, or a JSON-schema object.
fn json_schema(format: Option<&Value>) -> Result<Option<String>, ApiError> {
    match format {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s == "json" => Ok(Some("{}".to_string())),
        Some(v @ Value::Object(_)) => Ok(Some(v.to_string())),
        Some(other) => Err(ApiError::internal(format!(
            "invalid format: {}; expected \"json\" or a valid JSON Schema object",
            quoted(other)
        ))),
    }
}

fn quoted(v: &Value) -> String {
    let raw = v.to_string();
    match v {
        Value::String(_) => raw,
        _ => format!("\"{}\"", raw.replace('"', "\\\"")),
    }
}

/// Renders a prompt and decides whether the tokenizer should add BOS: not
/// when the template already wrote it.
pub fn render_prompt(
    format: &PromptFormat,
    facts: &ModelFacts,
    input: &TemplateInput<'_>,
) -> Result<(String, bool), ApiError> {
    let text = format
        .render(input)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let has_bos = !facts.bos_token.is_empty() && text.starts_with(&facts.bos_token);
    Ok((text, !has_bos))
}

/// The engine request for a resolved model and rendered prompt.
pub fn engine_request(
    r: &Resolved,
    n_ctx: u32,
    prompt: String,
    add_special: bool,
    common: &Common,
) -> hearth_engine::GenerateRequest {
    let stop = if r.options.stop.is_empty() {
        r.format.stops()
    } else {
        r.options.stop.clone()
    };
    hearth_engine::GenerateRequest {
        context: Vec::new(),
        prompt,
        add_special,
        sampling: model::sampling(&r.options),
        num_predict: model::num_predict(&r.options, n_ctx),
        stop,
        grammar: None,
        json_schema: common.json_schema.clone(),
        num_keep: r.options.num_keep.map_or(4, |n| n.max(0) as u32),
        shift: true,
        logprobs: None,
        images: Vec::new(),
    }
}
