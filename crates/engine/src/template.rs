//! Chat templates: turning a list of messages into the prompt text a model
//! was trained on.
//!
//! A model's own template (GGUF `tokenizer.chat_template`, or a `TEMPLATE`
//! given at create time) is Jinja, rendered with minijinja plus Python-style
//! string methods, as Hugging Face and TGI render them. Models without one
//! get a built-in format chosen by architecture: Gemma's turn format for the
//! Gemma family, ChatML (llama.cpp's own default) otherwise.

use minijinja::{context, Environment, Error as JinjaError, ErrorKind};
use serde_json::Value;

use crate::EngineError;

/// A built-in prompt format for models that ship no template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinFormat {
    /// `<start_of_turn>user\n…<end_of_turn>\n<start_of_turn>model\n`
    Gemma,
    /// `<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n`
    ChatMl,
}

impl BuiltinFormat {
    /// The format to use for a model of architecture `arch`.
    pub fn for_architecture(arch: &str) -> Self {
        if arch.starts_with("gemma") {
            BuiltinFormat::Gemma
        } else {
            BuiltinFormat::ChatMl
        }
    }

    /// Stop strings that end an assistant turn in this format.
    pub fn stops(self) -> Vec<String> {
        match self {
            BuiltinFormat::Gemma => vec!["<end_of_turn>".into()],
            BuiltinFormat::ChatMl => vec!["<|im_end|>".into()],
        }
    }

    /// The Jinja source of this format.
    pub fn source(self) -> &'static str {
        match self {
            BuiltinFormat::Gemma => GEMMA,
            BuiltinFormat::ChatMl => CHATML,
        }
    }
}

// Gemma has no system role: a system message is folded into the first user
// turn, as Gemma's published template does. Assistant turns are "model".
const GEMMA: &str = concat!(
    "{% set ns = namespace(system='') %}",
    "{% for m in messages %}",
    "{% if m.role == 'system' %}{% set ns.system = ns.system ~ m.content ~ '\\n\\n' %}",
    "{% else %}",
    "{{ '<start_of_turn>' ~ ('model' if m.role == 'assistant' else m.role) ~ '\\n' }}",
    "{% if m.role == 'user' and ns.system %}{{ ns.system }}{% set ns.system = '' %}{% endif %}",
    "{{ m.content | trim }}{{ '<end_of_turn>\\n' }}",
    "{% endif %}",
    "{% endfor %}",
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}",
);

const CHATML: &str = concat!(
    "{% for m in messages %}",
    "{{ '<|im_start|>' ~ m.role ~ '\\n' ~ m.content ~ '<|im_end|>\\n' }}",
    "{% endfor %}",
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
);

/// What a template is rendered with.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput<'a> {
    /// Messages as JSON objects (`role`, `content`, and any extra keys such
    /// as `tool_calls`), passed to the template unchanged.
    pub messages: &'a [Value],
    /// Tool definitions, if any.
    pub tools: Option<&'a Value>,
    /// Append the opening of the assistant's turn.
    pub add_generation_prompt: bool,
    /// The model's BOS and EOS token text, for templates that write them.
    pub bos_token: &'a str,
    pub eos_token: &'a str,
    /// Whether the model should think first (thinking models only).
    pub think: bool,
    /// The requested thinking level (`low`, `medium`, `high`, `max`), if any.
    pub think_level: Option<&'a str>,
    /// Whether the request set `think` at all.
    pub think_set: bool,
}

/// Checks that `source` parses as a Jinja template.
pub fn validate(source: &str) -> Result<(), EngineError> {
    environment()
        .template_from_str(source)
        .map(|_| ())
        .map_err(|e| EngineError::InvalidRequest(format!("template error: {}", describe(&e))))
}

/// Renders the Jinja template `source` with `input`.
pub fn render(source: &str, input: &TemplateInput<'_>) -> Result<String, EngineError> {
    let env = environment();
    let template = env
        .template_from_str(source)
        .map_err(|e| EngineError::InvalidRequest(format!("template error: {}", describe(&e))))?;
    let tools = input.tools.cloned().unwrap_or(Value::Null);
    template
        .render(context! {
            messages => input.messages,
            tools => if tools.is_null() { None } else { Some(tools) },
            add_generation_prompt => input.add_generation_prompt,
            bos_token => input.bos_token,
            eos_token => input.eos_token,
            enable_thinking => input.think,
            reasoning_effort => input.think_level,
        })
        .map_err(|e| EngineError::InvalidRequest(format!("template error: {}", describe(&e))))
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Hugging Face templates are written for Python's Jinja: they call
    // str.strip(), dict.items() and friends, and raise_exception().
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |msg: String| -> Result<String, JinjaError> {
            Err(JinjaError::new(ErrorKind::InvalidOperation, msg))
        },
    );
    env.add_filter("tojson", python_tojson);
    env.add_function("strftime_now", |fmt: String| {
        chrono::Local::now().format(&fmt).to_string()
    });
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env
}

/// `tojson` as Hugging Face templates expect it: Python's `json.dumps`,
/// which keeps key order and separates with `", "` and `": "` (or indents
/// when asked), rather than minijinja's compact form. Models were trained
/// on prompts written this way.
fn python_tojson(
    value: minijinja::Value,
    kwargs: minijinja::value::Kwargs,
) -> Result<String, JinjaError> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let _: Option<bool> = kwargs.get("ensure_ascii")?;
    let _: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let json = serde_json::to_value(&value)
        .map_err(|e| JinjaError::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let mut out = Vec::new();
    let result = match indent {
        Some(n) => {
            let spaces = " ".repeat(n);
            let mut ser = serde_json::Serializer::with_formatter(
                &mut out,
                serde_json::ser::PrettyFormatter::with_indent(spaces.as_bytes()),
            );
            serde::Serialize::serialize(&json, &mut ser)
        }
        None => serde::Serialize::serialize(
            &json,
            &mut serde_json::Serializer::with_formatter(&mut out, PythonFormatter),
        ),
    };
    result.map_err(|e| JinjaError::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(String::from_utf8(out).expect("JSON is UTF-8"))
}

/// Python's default `json.dumps` separators: `", "` and `": "`.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

fn describe(e: &JinjaError) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msgs(v: Value) -> Vec<Value> {
        v.as_array().unwrap().clone()
    }

    fn input(messages: &[Value]) -> TemplateInput<'_> {
        TemplateInput {
            messages,
            tools: None,
            add_generation_prompt: true,
            bos_token: "<s>",
            eos_token: "</s>",
            ..TemplateInput::default()
        }
    }

    #[test]
    fn gemma_format_folds_system_into_first_user_turn() {
        let m = msgs(json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Bye"}
        ]));
        let out = render(BuiltinFormat::Gemma.source(), &input(&m)).unwrap();
        assert_eq!(
            out,
            "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn chatml_format() {
        let m = msgs(json!([{"role": "user", "content": "Hi"}]));
        let out = render(BuiltinFormat::ChatMl.source(), &input(&m)).unwrap();
        assert_eq!(
            out,
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn hugging_face_style_template_renders() {
        let src = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}[INST] {{ message['content'].strip() }} [/INST]{% else %}{{ message['content'] }}{{ eos_token }}{% endif %}{% endfor %}";
        let m = msgs(
            json!([{"role": "user", "content": "  Hi  "}, {"role": "assistant", "content": "Yo"}]),
        );
        let out = render(src, &input(&m)).unwrap();
        assert_eq!(out, "<s>[INST] Hi [/INST]Yo</s>");
    }

    #[test]
    fn raise_exception_becomes_an_error() {
        let src = "{{ raise_exception('roles must alternate') }}";
        let err = render(src, &input(&[])).unwrap_err();
        assert!(err.to_string().contains("roles must alternate"), "{err}");
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(validate("{% for %}").is_err());
        assert!(validate("{{ messages }}").is_ok());
    }

    #[test]
    fn architecture_picks_format() {
        assert_eq!(
            BuiltinFormat::for_architecture("gemma3"),
            BuiltinFormat::Gemma
        );
        assert_eq!(
            BuiltinFormat::for_architecture("llama"),
            BuiltinFormat::ChatMl
        );
    }
}
