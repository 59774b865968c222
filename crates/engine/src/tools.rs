//! Tool calls parsed out of a model's streamed text.
//!
//! Models announce a tool call with a marker their template teaches them:
//! `<tool_call>` (Qwen, Hermes), `[TOOL_CALLS]` (Mistral), `<|python_tag|>`
//! (Llama 3.1), or simply by answering with a JSON object (Llama 3.2 and
//! many others). [`ToolFormat::detect`] finds the marker the way Ollama
//! does for Go templates — the first text after `{{ if .ToolCalls }}` —
//! and from well-known markers in Jinja templates. [`ToolCallParser`] then
//! streams text that is plainly content, holds back text that may be a
//! marker, and turns each complete JSON call (`{"name", "arguments"}` or
//! `{"name", "parameters"}`, also wrapped as `{"function": {...}}`, alone or
//! in an array) naming a known tool into a [`ToolCall`]. Text that turns
//! out not to be a call is released as content, so nothing is lost.

use serde_json::{Map, Value};

/// How a model marks its tool calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolFormat {
    /// Text that opens a call; `{` or `[` mean the answer itself is JSON.
    pub open: String,
    /// Text that closes a call, if the format has one.
    pub close: Option<String>,
}

impl ToolFormat {
    /// The format taught by `template` (Go or Jinja).
    pub fn detect(template: &str) -> Self {
        if let Some(tag) = go_tool_tag(template) {
            let close = closing_for(&tag);
            return Self { open: tag, close };
        }
        for (open, close) in [
            ("<tool_call>", Some("</tool_call>")),
            ("[TOOL_CALLS]", None),
            ("<|python_tag|>", None),
            ("<|tool_call_start|>", Some("<|tool_call_end|>")),
            ("<start_function_call>", Some("<end_function_call>")),
        ] {
            if template.contains(open) {
                return Self {
                    open: open.to_string(),
                    close: close.map(str::to_string),
                };
            }
        }
        Self {
            open: "{".to_string(),
            close: None,
        }
    }

    /// Calls written as the whole answer in JSON.
    pub fn bare_json() -> Self {
        Self {
            open: "{".to_string(),
            close: None,
        }
    }

    fn is_bare_json(&self) -> bool {
        self.open == "{" || self.open == "["
    }
}

/// The first text node after `{{ if .ToolCalls }}` in a Go template, cut
/// at `{`; `{` when that text is empty.
fn go_tool_tag(template: &str) -> Option<String> {
    let at = template.find(".ToolCalls")?;
    let rest = &template[at..];
    let mut after = &rest[rest.find("}}")? + 2..];
    loop {
        let trimmed = after.trim_start();
        if let Some(inner) = trimmed.strip_prefix("{{") {
            // Skip further actions (e.g. `{{ range .ToolCalls }}`).
            after = &inner[inner.find("}}")? + 2..];
            continue;
        }
        let text = &trimmed[..trimmed.find("{{").unwrap_or(trimmed.len())];
        // The payload starts at `{` (or at the `[` of an array of calls).
        let tag = text[..text.find('{').unwrap_or(text.len())]
            .trim()
            .trim_end_matches('[')
            .trim_end();
        return Some(if tag.is_empty() {
            "{".to_string()
        } else {
            tag.to_string()
        });
    }
}

fn closing_for(open: &str) -> Option<String> {
    let name = open.strip_prefix('<')?.strip_suffix('>')?;
    Some(format!("</{name}>"))
}

/// One parsed call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Map<String, Value>,
}

/// What the parser releases.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    Content(String),
    Calls(Vec<ToolCall>),
}

#[derive(Debug, PartialEq)]
enum State {
    /// Nothing seen yet (bare-JSON formats decide on the first character).
    Start,
    /// Streaming content, watching for the opening marker.
    Content,
    /// Inside a call: collecting until a JSON value completes.
    Call,
    /// Bare-JSON format whose answer did not start with JSON.
    PlainContent,
}

/// Incremental tool-call parser for one generation.
#[derive(Debug)]
pub struct ToolCallParser {
    format: ToolFormat,
    tools: Vec<String>,
    state: State,
    buffer: String,
}

impl ToolCallParser {
    /// A parser for `format` recognising calls to `tools` (by name).
    pub fn new(format: ToolFormat, tools: Vec<String>) -> Self {
        Self {
            format,
            tools,
            state: State::Start,
            buffer: String::new(),
        }
    }

    /// Feeds generated text; returns what can be released now.
    pub fn push(&mut self, text: &str) -> Vec<ToolOutput> {
        self.buffer.push_str(text);
        let mut out = Vec::new();
        loop {
            let progressed = match self.state {
                State::Start => self.start(),
                State::Content => self.content(&mut out),
                State::Call => self.call(&mut out),
                State::PlainContent => {
                    emit(&mut out, std::mem::take(&mut self.buffer));
                    false
                }
            };
            if !progressed {
                return out;
            }
        }
    }

    /// Ends the generation: whatever is held back is content.
    pub fn finish(&mut self) -> Vec<ToolOutput> {
        let mut out = Vec::new();
        if self.state == State::Call {
            if let Some(calls) = self.parse_calls(&self.buffer.clone(), true) {
                out.push(ToolOutput::Calls(calls.0));
                self.buffer.clear();
                return out;
            }
        }
        emit(&mut out, std::mem::take(&mut self.buffer));
        out
    }

    fn start(&mut self) -> bool {
        let trimmed = self.buffer.trim_start();
        if trimmed.is_empty() {
            return false;
        }
        self.state = if !self.format.is_bare_json() {
            State::Content
        } else if trimmed.starts_with(['{', '[']) {
            State::Call
        } else {
            State::PlainContent
        };
        true
    }

    fn content(&mut self, out: &mut Vec<ToolOutput>) -> bool {
        let open = self.format.open.clone();
        if let Some(at) = self.buffer.find(&open) {
            let before: String = self.buffer.drain(..at).collect();
            emit(out, before);
            self.buffer.drain(..open.len());
            self.state = State::Call;
            return true;
        }
        let keep = partial_suffix(&self.buffer, &open);
        let cut = self.buffer.len() - keep;
        let ready: String = self.buffer.drain(..cut).collect();
        emit(out, ready);
        false
    }

    fn call(&mut self, out: &mut Vec<ToolOutput>) -> bool {
        let Some((calls, consumed)) = self.parse_calls(&self.buffer.clone(), false) else {
            return false;
        };
        self.buffer.drain(..consumed);
        if let Some(close) = &self.format.close {
            let rest = self.buffer.trim_start();
            if let Some(stripped) = rest.strip_prefix(close.as_str()) {
                self.buffer = stripped.to_string();
            }
        }
        out.push(ToolOutput::Calls(calls));
        self.state = if self.format.is_bare_json() {
            State::Start
        } else {
            State::Content
        };
        true
    }

    /// Finds the first complete JSON value in `text` and reads calls from
    /// it. Returns the calls and the bytes consumed.
    fn parse_calls(&self, text: &str, at_end: bool) -> Option<(Vec<ToolCall>, usize)> {
        let start = text.find(['{', '['])?;
        let end = start + balanced_end(&text[start..])?;
        let value: Value = serde_json::from_str(&text[start..end]).ok()?;
        let items = match value {
            Value::Array(items) => items,
            one => vec![one],
        };
        let calls: Vec<ToolCall> = items.iter().filter_map(|v| self.call_of(v)).collect();
        let _ = at_end;
        (!calls.is_empty()).then_some((calls, end))
    }

    fn call_of(&self, v: &Value) -> Option<ToolCall> {
        let v = v.get("function").filter(|f| f.is_object()).unwrap_or(v);
        let name = v.get("name")?.as_str()?;
        if !self.tools.iter().any(|t| t == name) {
            return None;
        }
        let args = v
            .get("arguments")
            .or_else(|| v.get("parameters"))
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let arguments = match args {
            Value::Object(m) => m,
            // Some models encode the arguments as a JSON string.
            Value::String(s) => serde_json::from_str::<Map<String, Value>>(&s).ok()?,
            _ => return None,
        };
        Some(ToolCall {
            name: name.to_string(),
            arguments,
        })
    }
}

fn emit(out: &mut Vec<ToolOutput>, text: String) {
    if !text.is_empty() {
        out.push(ToolOutput::Content(text));
    }
}

/// Length of the longest suffix of `text` that is a proper prefix of `tag`.
fn partial_suffix(text: &str, tag: &str) -> usize {
    let max = tag.len().saturating_sub(1).min(text.len());
    (1..=max)
        .rev()
        .find(|&len| {
            text.is_char_boundary(text.len() - len) && tag.starts_with(&text[text.len() - len..])
        })
        .unwrap_or(0)
}

/// Byte length of the JSON object or array at the start of `text`, if it
/// is complete (strings and escapes respected).
fn balanced_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(format: ToolFormat, pieces: &[&str]) -> (String, Vec<ToolCall>) {
        let mut p = ToolCallParser::new(format, vec!["get_weather".into(), "add".into()]);
        let mut outs = Vec::new();
        for piece in pieces {
            outs.extend(p.push(piece));
        }
        outs.extend(p.finish());
        let mut text = String::new();
        let mut calls = Vec::new();
        for o in outs {
            match o {
                ToolOutput::Content(t) => text.push_str(&t),
                ToolOutput::Calls(c) => calls.extend(c),
            }
        }
        (text, calls)
    }

    fn weather(city: &str) -> ToolCall {
        ToolCall {
            name: "get_weather".into(),
            arguments: json!({"city": city}).as_object().unwrap().clone(),
        }
    }

    #[test]
    fn detects_go_template_tags() {
        let qwen = "{{- if .ToolCalls }}<tool_call>\n{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}\"}{{ end }}</tool_call>{{ end }}";
        assert_eq!(
            ToolFormat::detect(qwen),
            ToolFormat {
                open: "<tool_call>".into(),
                close: Some("</tool_call>".into())
            }
        );
        let mistral = "{{- if .ToolCalls }}[TOOL_CALLS][{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}\"}{{ end }}]{{ end }}";
        assert_eq!(ToolFormat::detect(mistral).open, "[TOOL_CALLS]");
        let llama = "{{- if .ToolCalls }}{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}\", \"parameters\": {{ .Function.Arguments }}}{{ end }}{{ end }}";
        assert_eq!(ToolFormat::detect(llama).open, "{");
    }

    #[test]
    fn detects_jinja_markers() {
        assert_eq!(
            ToolFormat::detect("{% if tools %}<tool_call>{% endif %}").open,
            "<tool_call>"
        );
        assert_eq!(ToolFormat::detect("{{ messages }}").open, "{");
    }

    #[test]
    fn bare_json_call_split_across_pieces() {
        let f = ToolFormat::detect("");
        let (text, calls) = run(
            f,
            &[
                "{\"na",
                "me\": \"get_weather\", \"param",
                "eters\": {\"city\": \"Paris\"}}",
            ],
        );
        assert_eq!(text, "");
        assert_eq!(calls, vec![weather("Paris")]);
    }

    #[test]
    fn bare_json_format_leaves_prose_alone() {
        let (text, calls) = run(ToolFormat::detect(""), &["The weather ", "is {nice}."]);
        assert_eq!(text, "The weather is {nice}.");
        assert!(calls.is_empty());
    }

    #[test]
    fn tagged_calls_after_content_with_arguments_as_string() {
        let f = ToolFormat {
            open: "<tool_call>".into(),
            close: Some("</tool_call>".into()),
        };
        let (text, calls) = run(
            f,
            &["Let me check.", "<tool_", "call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Tokyo\\\"}\"}\n</tool_call>"],
        );
        assert_eq!(text, "Let me check.");
        assert_eq!(calls, vec![weather("Tokyo")]);
    }

    #[test]
    fn mistral_array_of_calls() {
        let f = ToolFormat {
            open: "[TOOL_CALLS]".into(),
            close: None,
        };
        let (_, calls) = run(
            f,
            &["[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}]"],
        );
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[1].arguments,
            *json!({"a": 1, "b": 2}).as_object().unwrap()
        );
    }

    #[test]
    fn unknown_tool_or_broken_json_is_released_as_content() {
        let f = ToolFormat {
            open: "<tool_call>".into(),
            close: Some("</tool_call>".into()),
        };
        let (text, calls) = run(
            f.clone(),
            &["<tool_call>{\"name\": \"nope\", \"arguments\": {}}"],
        );
        assert!(calls.is_empty());
        assert_eq!(text, "{\"name\": \"nope\", \"arguments\": {}}");
        let (text, calls) = run(f, &["<tool_call>{\"name\": \"get_weather\", \"argu"]);
        assert!(calls.is_empty());
        assert!(text.contains("get_weather"));
    }

    #[test]
    fn argument_key_order_is_kept() {
        let (_, calls) = run(
            ToolFormat::detect(""),
            &["{\"name\": \"add\", \"arguments\": {\"z\": 1, \"a\": 2, \"m\": 3}}"],
        );
        let keys: Vec<&String> = calls[0].arguments.keys().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }
}
