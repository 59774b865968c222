//! Modelfile parsing (spec §6.1), matching Ollama's `parser` package.
//!
//! Parsing runs in two steps, as in Ollama: a character-level scanner turns
//! the text into `(instruction, argument)` commands, then the commands are
//! interpreted (typing `PARAMETER`s, checking `REQUIRES`, splitting
//! `MESSAGE`s). The scanner reproduces Ollama's quirks on purpose, because
//! users' existing Modelfiles depend on them: values run to the end of the
//! line, a value that opens a quote continues over newlines until a line
//! ends with the closing quote, `#` starts a comment only at the start of a
//! line, and error texts and line numbers are Ollama's.
//!
//! Resolving `FROM`/`ADAPTER`/`DRAFT` arguments to files or model names is
//! left to the caller, which knows the Modelfile's directory.
//!
//! It is a crate of its own, with no dependency beyond `hearth-api`, so the
//! fuzz targets in `fuzz/` can reach it without building the CLI (and with
//! it llama.cpp).

use std::fmt;

use hearth_api::options::{parse_param, MODELFILE_DEPRECATED};
use hearth_api::{CreateRequest, License, Message};
use serde_json::{Map, Value};

/// The interpreted content of a Modelfile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Modelfile {
    /// `FROM` arguments in order: model names or paths (several are allowed,
    /// e.g. a model GGUF plus a projector GGUF).
    pub from: Vec<String>,
    /// `ADAPTER` paths.
    pub adapters: Vec<String>,
    /// `DRAFT` paths (speculative-decoding draft model).
    pub drafts: Vec<String>,
    /// Last `TEMPLATE`.
    pub template: Option<String>,
    /// Last `SYSTEM`.
    pub system: Option<String>,
    /// Every `LICENSE`, in order.
    pub license: Vec<String>,
    /// Typed `PARAMETER`s; repeated `stop`s accumulate into one array.
    pub parameters: Map<String, Value>,
    /// `MESSAGE`s as `(role, content)`.
    pub messages: Vec<(String, String)>,
    /// `REQUIRES`, normalised without a leading `v`.
    pub requires: Option<String>,
    /// Last `RENDERER`.
    pub renderer: Option<String>,
    /// Last `PARSER`.
    pub parser: Option<String>,
    /// Lines to print as they are, e.g. `warning: parameter mirostat is
    /// deprecated` for removed parameters that were dropped.
    pub warnings: Vec<String>,
}

impl Modelfile {
    /// A create request carrying everything except `from`, `files`,
    /// `adapters` and `draft_files`, which depend on whether the `FROM`/
    /// `ADAPTER`/`DRAFT` arguments name local files.
    pub fn to_create_request(&self, model: &str) -> CreateRequest {
        CreateRequest {
            model: model.to_string(),
            template: self.template.clone().unwrap_or_default(),
            system: self.system.clone().unwrap_or_default(),
            license: (!self.license.is_empty()).then(|| License::Many(self.license.clone())),
            parameters: self.parameters.clone(),
            messages: self
                .messages
                .iter()
                .map(|(role, content)| Message::new(role.as_str(), content.as_str()))
                .collect(),
            renderer: self.renderer.clone().unwrap_or_default(),
            parser: self.parser.clone().unwrap_or_default(),
            requires: self.requires.clone().unwrap_or_default(),
            ..CreateRequest::default()
        }
    }
}

/// A Modelfile error; displays as Ollama's (`(line 3): command must be
/// one of ...`, `unexpected EOF`, `no FROM line`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelfileError {
    /// 1-based line for errors Ollama reports with a line number.
    pub line: Option<usize>,
    pub message: String,
}

impl ModelfileError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            message: message.into(),
        }
    }

    fn new(message: impl Into<String>) -> Self {
        Self {
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ModelfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "(line {line}): {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ModelfileError {}

const INVALID_COMMAND: &str = "command must be one of \"from\", \"license\", \"template\", \"system\", \"adapter\", \"draft\", \"renderer\", \"parser\", \"parameter\", \"message\", or \"requires\"";
const INVALID_ROLE: &str = "message role must be one of \"system\", \"user\", or \"assistant\"";
const UNEXPECTED_EOF: &str = "unexpected EOF";
const INSTRUCTIONS: &[&str] = &[
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
];

/// Parse Modelfile text. A leading byte-order mark is ignored.
pub fn parse(text: &str) -> Result<Modelfile, ModelfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    interpret(scan(text)?)
}

/// Parse Modelfile bytes: UTF-8, or UTF-16 (either byte order) when the
/// file starts with a UTF-16 byte-order mark, as Ollama accepts. Invalid
/// UTF-8 becomes U+FFFD.
pub fn parse_bytes(bytes: &[u8]) -> Result<Modelfile, ModelfileError> {
    parse(&decode(bytes))
}

fn decode(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest.chunks_exact(2).map(|p| from([p[0], p[1]])).collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// One instruction with its (unquoted) argument. `name` is the lower-case
/// instruction (`model` for FROM), or the parameter name for PARAMETER.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Command {
    name: String,
    args: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between instructions.
    Idle,
    /// Reading the instruction word.
    Name,
    /// Reading a PARAMETER's name.
    ParamName,
    /// Reading a MESSAGE's role.
    Role,
    /// Reading the argument.
    Value,
    /// Inside a `#` comment line.
    Comment,
}

/// Character-level scanner, fed one character at a time.
struct Scanner {
    state: State,
    line: usize,
    buf: String,
    /// Name of the command being built. Deliberately not reset between
    /// commands, as in Ollama.
    name: String,
    /// Pending MESSAGE role.
    role: String,
    commands: Vec<Command>,
}

fn scan(text: &str) -> Result<Vec<Command>, ModelfileError> {
    let mut scanner = Scanner {
        state: State::Idle,
        line: 1,
        buf: String::new(),
        name: String::new(),
        role: String::new(),
        commands: Vec::new(),
    };
    for c in text.chars() {
        scanner.feed(c)?;
    }
    scanner.finish()
}

impl Scanner {
    fn feed(&mut self, c: char) -> Result<(), ModelfileError> {
        // Every '\r' and '\n' counts, so CRLF files report doubled line
        // numbers, exactly like Ollama.
        if is_newline(c) {
            self.line += 1;
        }
        let (next, keep) = self.step(c)?;
        if next != self.state {
            let Some(next) = self.leave(next, c)? else {
                // The character was absorbed into a continuing value.
                return Ok(());
            };
            self.buf.clear();
            self.state = next;
        }
        if let Some(k) = keep.filter(|&k| hearth_api::gostr::is_print(k)) {
            self.buf.push(k);
        }
        Ok(())
    }

    /// The state `c` leads to, and whether `c` belongs in the buffer.
    fn step(&self, c: char) -> Result<(State, Option<char>), ModelfileError> {
        Ok(match self.state {
            State::Idle if c == '#' => (State::Comment, None),
            State::Idle if is_space(c) || is_newline(c) => (State::Idle, None),
            State::Idle => (State::Name, Some(c)),
            State::Name if c.is_ascii_alphabetic() => (State::Name, Some(c)),
            State::Name if is_space(c) => (State::Value, None),
            State::Name => return Err(ModelfileError::at(self.line, INVALID_COMMAND)),
            State::Value if is_space(c) || is_newline(c) => (State::Idle, Some(c)),
            State::Value => (State::Value, Some(c)),
            State::ParamName if c.is_ascii_alphanumeric() || c == '_' => {
                (State::ParamName, Some(c))
            }
            State::Role if c.is_ascii_alphabetic() => (State::Role, Some(c)),
            State::ParamName | State::Role if is_space(c) => (State::Value, None),
            // Ollama reports a bad character here as a truncated file.
            State::ParamName | State::Role => {
                return Err(ModelfileError::new(format!(
                    "{UNEXPECTED_EOF}: {}",
                    self.buf
                )))
            }
            State::Comment if is_newline(c) => (State::Idle, None),
            State::Comment => (State::Comment, None),
        })
    }

    /// Finish the current state before moving to `next`. Returns the state
    /// to enter (which may differ from `next`), or `None` when `c` was
    /// appended to a value that continues.
    fn leave(&mut self, next: State, c: char) -> Result<Option<State>, ModelfileError> {
        match self.state {
            State::Name => self.finish_name(next).map(Some),
            State::ParamName => {
                self.name = self.buf.clone();
                Ok(Some(next))
            }
            State::Role => {
                if !matches!(self.buf.as_str(), "system" | "user" | "assistant") {
                    return Err(ModelfileError::at(self.line, INVALID_ROLE));
                }
                self.role = self.buf.clone();
                Ok(Some(next))
            }
            State::Value => Ok(self.end_value(c).then_some(next)),
            State::Idle | State::Comment => Ok(Some(next)),
        }
    }

    fn finish_name(&mut self, next: State) -> Result<State, ModelfileError> {
        let word = self.buf.to_ascii_lowercase();
        if !INSTRUCTIONS.contains(&word.as_str()) {
            return Err(ModelfileError::at(self.line, INVALID_COMMAND));
        }
        Ok(match word.as_str() {
            "from" => {
                self.name = "model".to_string();
                next
            }
            // The command name is set once the parameter name is read.
            "parameter" => State::ParamName,
            "message" => {
                self.name = word;
                State::Role
            }
            _ => {
                self.name = word;
                next
            }
        })
    }

    /// A space or newline arrived while reading a value. Spaces always
    /// continue the value; a newline ends it only if its quotes are closed.
    /// Returns true when the value (and so the command) is complete.
    fn end_value(&mut self, c: char) -> bool {
        match unquote(self.buf.trim()) {
            Some(value) if !is_space(c) => {
                let args = self.with_role(value.to_string());
                self.push_command(args);
                true
            }
            _ => {
                self.buf.push(c);
                false
            }
        }
    }

    /// A MESSAGE's argument is `role: content`, as Ollama stores it.
    fn with_role(&mut self, value: String) -> String {
        if self.role.is_empty() {
            return value;
        }
        format!("{}: {value}", std::mem::take(&mut self.role))
    }

    fn push_command(&mut self, args: String) {
        self.commands.push(Command {
            name: self.name.clone(),
            args,
        });
    }

    /// End of input: flush a final value without a trailing newline.
    fn finish(mut self) -> Result<Vec<Command>, ModelfileError> {
        match self.state {
            State::Idle | State::Comment => {}
            State::Value => {
                let value = unquote(self.buf.trim())
                    .ok_or_else(|| ModelfileError::new(UNEXPECTED_EOF))?
                    .to_string();
                let args = self.with_role(value);
                self.push_command(args);
            }
            _ => return Err(ModelfileError::new(UNEXPECTED_EOF)),
        }
        if !self.commands.iter().any(|c| c.name == "model") {
            return Err(ModelfileError::new("no FROM line"));
        }
        Ok(self.commands)
    }
}

/// Strip `"""…"""` or `"…"`; `None` while a quote is still open.
fn unquote(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix("\"\"\"") {
        return (s.len() >= 6 && rest.ends_with("\"\"\"")).then(|| &s[3..s.len() - 3]);
    }
    if s.starts_with('"') {
        return (s.len() >= 2 && s.ends_with('"')).then(|| &s[1..s.len() - 1]);
    }
    Some(s)
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

/// Apply the commands in order, as Ollama's `CreateRequest` does.
fn interpret(commands: Vec<Command>) -> Result<Modelfile, ModelfileError> {
    let mut file = Modelfile::default();
    for Command { name, args } in commands {
        match name.as_str() {
            "model" => file.from.push(args),
            "adapter" => file.adapters.push(args),
            "draft" => file.drafts.push(args),
            "template" => file.template = Some(args),
            "system" => file.system = Some(args),
            "license" => file.license.push(args),
            "renderer" => file.renderer = Some(args),
            "parser" => file.parser = Some(args),
            "requires" => file.requires = Some(normalize_requires(&args)?),
            "message" => file.messages.push(split_message(&args)),
            _ => add_parameter(&mut file, &name, &args)?,
        }
    }
    Ok(file)
}

fn split_message(args: &str) -> (String, String) {
    let (role, content) = args.split_once(": ").unwrap_or((args, ""));
    (role.to_string(), content.to_string())
}

fn add_parameter(file: &mut Modelfile, name: &str, raw: &str) -> Result<(), ModelfileError> {
    if MODELFILE_DEPRECATED.contains(&name) {
        file.warnings
            .push(format!("warning: parameter {name} is deprecated"));
        return Ok(());
    }
    let value = parse_param(name, raw).map_err(|e| ModelfileError::new(e.message))?;
    match (file.parameters.get_mut(name), value) {
        (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
        (_, value) => {
            file.parameters.insert(name.to_string(), value);
        }
    }
    Ok(())
}

/// Check `REQUIRES` is a semantic version (a `v` prefix is optional) and
/// return it without the `v`.
fn normalize_requires(args: &str) -> Result<String, ModelfileError> {
    let version = args.strip_prefix('v').unwrap_or(args);
    if is_semver(version) {
        Ok(version.to_string())
    } else {
        Err(ModelfileError::new(
            "requires must be a valid semver (e.g. 0.14.0)",
        ))
    }
}

/// Go's `golang.org/x/mod/semver` validity (without the `v`): `MAJOR`,
/// `MAJOR.MINOR` or `MAJOR.MINOR.PATCH[-pre][+build]`, no leading zeros.
fn is_semver(version: &str) -> bool {
    let (core, build) = split_at_char(version, '+');
    let (numbers, pre) = split_at_char(core, '-');
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || !parts.iter().all(|p| is_number(p)) {
        return false;
    }
    // Shorthands like `1.2` may not carry a pre-release or build suffix.
    let suffixed = pre.is_some() || build.is_some();
    if suffixed && parts.len() != 3 {
        return false;
    }
    pre.is_none_or(|p| identifiers_ok(p, true)) && build.is_none_or(|b| identifiers_ok(b, false))
}

fn split_at_char(s: &str, sep: char) -> (&str, Option<&str>) {
    match s.split_once(sep) {
        Some((head, tail)) => (head, Some(tail)),
        None => (s, None),
    }
}

fn is_number(part: &str) -> bool {
    !part.is_empty()
        && part.bytes().all(|b| b.is_ascii_digit())
        && (part == "0" || !part.starts_with('0'))
}

/// Dot-separated non-empty `[0-9A-Za-z-]+` identifiers; in pre-releases a
/// numeric identifier may not have a leading zero.
fn identifiers_ok(s: &str, numeric_rule: bool) -> bool {
    s.split('.').all(|id| {
        let chars_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let all_digits = id.bytes().all(|b| b.is_ascii_digit());
        chars_ok && !(numeric_rule && all_digits && id.len() > 1 && id.starts_with('0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn commands(text: &str) -> Vec<(String, String)> {
        scan(text)
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.args))
            .collect()
    }

    fn cmd(name: &str, args: &str) -> (String, String) {
        (name.to_string(), args.to_string())
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn parses_a_full_modelfile() {
        let text = r#"
# A comment
FROM llama3.2
from ./adapter-base.gguf
ADAPTER ./lora.gguf
PARAMETER temperature 0.7
PARAMETER num_ctx 4096
PARAMETER stop "<|start_header_id|>"
PARAMETER stop <|eot_id|>
PARAMETER use_mmap false
TEMPLATE """{{ .System }}
{{ .Prompt }}"""
SYSTEM You are Mario from "Super Mario Bros".
LICENSE MIT
license """Line one
Line two"""
MESSAGE user Is Toronto in Canada?
MESSAGE assistant yes: it is
RENDERER qwen3-coder
PARSER qwen3-coder
REQUIRES 0.14.0
"#;
        let file = parse(text).unwrap();
        assert_eq!(file.from, ["llama3.2", "./adapter-base.gguf"]);
        assert_eq!(file.adapters, ["./lora.gguf"]);
        assert_eq!(
            Value::Object(file.parameters.clone()),
            json!({
                "temperature": 0.7, "num_ctx": 4096,
                "stop": ["<|start_header_id|>", "<|eot_id|>"], "use_mmap": false
            })
        );
        assert_eq!(
            file.template.as_deref(),
            Some("{{ .System }}\n{{ .Prompt }}")
        );
        assert_eq!(
            file.system.as_deref(),
            Some(r#"You are Mario from "Super Mario Bros"."#)
        );
        assert_eq!(file.license, ["MIT", "Line one\nLine two"]);
        assert_eq!(
            file.messages,
            [
                cmd("user", "Is Toronto in Canada?"),
                cmd("assistant", "yes: it is")
            ]
        );
        assert_eq!(file.renderer.as_deref(), Some("qwen3-coder"));
        assert_eq!(file.parser.as_deref(), Some("qwen3-coder"));
        assert_eq!(file.requires.as_deref(), Some("0.14.0"));
        assert!(file.warnings.is_empty());
    }

    #[test]
    fn trims_values_but_keeps_quoted_spaces() {
        let text = "\nFROM \"     model 1\"\nADAPTER      adapter3\nLICENSE \"MIT       \"\nPARAMETER param1        value1\nTEMPLATE \"\"\"   {{ .Prompt }}\n   \"\"\"    \n";
        assert_eq!(
            commands(text),
            [
                cmd("model", "     model 1"),
                cmd("adapter", "adapter3"),
                cmd("license", "MIT       "),
                cmd("param1", "value1"),
                cmd("template", "   {{ .Prompt }}\n   "),
            ]
        );
        assert_eq!(
            commands("FROM     FOOO BAR    "),
            [cmd("model", "FOOO BAR")]
        );
        assert_eq!(
            commands("PARAMETER what the \nFROM lemons make lemonade "),
            [cmd("what", "the"), cmd("model", "lemons make lemonade")]
        );
    }

    #[test]
    fn quoting_rules() {
        let system = |body: &str| {
            let all = commands(&format!("FROM foo\nSYSTEM {body}\n"));
            all[1].1.clone()
        };
        assert_eq!(
            system("\"\"\"\nThis is a\nmultiline system.\n\"\"\""),
            "\nThis is a\nmultiline system.\n"
        );
        assert_eq!(
            system("\"\"\"This is a\nmultiline system.\"\"\""),
            "This is a\nmultiline system."
        );
        assert_eq!(system("\"\"\"\"\"\""), "");
        assert_eq!(system("\"\""), "");
        assert_eq!(system("\"'\""), "'");
        assert_eq!(
            system(r#""""''"'""'""'"'''''""'""'""""#),
            r#"''"'""'""'"'''''""'""'"#
        );
        assert_eq!(
            system("\"\"\"\nwith \"quotes\".\n\"\"\""),
            "\nwith \"quotes\".\n"
        );
        assert_eq!(system("\tindented\twith tabs "), "indented\twith tabs");
    }

    #[test]
    fn unterminated_quotes_are_unexpected_eof() {
        assert_eq!(
            error("FROM foo\nSYSTEM \"\"\"This is a multiline system.\"\"\n"),
            "unexpected EOF"
        );
        assert_eq!(error("FROM foo\nSYSTEM \"\n"), "unexpected EOF");
        assert_eq!(
            error("FROM foo\nTEMPLATE \"\"\"\n{{ .Prompt }}\n"),
            "unexpected EOF"
        );
    }

    #[test]
    fn final_line_without_newline() {
        assert_eq!(commands("FROM foo"), [cmd("model", "foo")]);
        assert_eq!(
            commands("FROM foo\nTEMPLATE \"\"\"\n{{ .Prompt }}\n\"\"\""),
            [cmd("model", "foo"), cmd("template", "\n{{ .Prompt }}\n")]
        );
        assert_eq!(
            commands("FROM foo\nMESSAGE system You parse."),
            [cmd("model", "foo"), cmd("message", "system: You parse.")]
        );
        assert_eq!(error("FROM foo\nSYSTEM"), "unexpected EOF");
    }

    #[test]
    fn instructions_are_case_insensitive_and_comments_skipped() {
        let file =
            parse("# header\n\n  fRoM base\n\t# indented comment\nsystem hi # not a comment\n")
                .unwrap();
        assert_eq!(file.from, ["base"]);
        assert_eq!(file.system.as_deref(), Some("hi # not a comment"));
    }

    #[test]
    fn byte_order_marks() {
        assert_eq!(parse("\u{feff}FROM foo\n").unwrap().from, ["foo"]);
        let text = "FROM bob\nPARAMETER num_ctx 4096\nSYSTEM You are a utf16 file 你好👋.\n";
        let units: Vec<u16> = text.encode_utf16().collect();
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(units.iter().flat_map(|u| u.to_le_bytes()))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(units.iter().flat_map(|u| u.to_be_bytes()))
            .collect();
        for bytes in [le, be] {
            let file = parse_bytes(&bytes).unwrap();
            assert_eq!(file.from, ["bob"]);
            assert_eq!(file.system.as_deref(), Some("You are a utf16 file 你好👋."));
        }
        let utf8 = [&[0xEF, 0xBB, 0xBF][..], b"FROM x\n"].concat();
        assert_eq!(parse_bytes(&utf8).unwrap().from, ["x"]);
    }

    #[test]
    fn unknown_instruction_reports_its_line() {
        let err = parse("\nFROM foo\nBADCOMMAND param1 value1\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(
            err.to_string(),
            "(line 3): command must be one of \"from\", \"license\", \"template\", \"system\", \"adapter\", \"draft\", \"renderer\", \"parser\", \"parameter\", \"message\", or \"requires\""
        );
        // A non-letter inside the instruction word is the same error.
        assert!(error("FROM2 x\n").starts_with("(line 1): command must be one of"));
        // Ollama counts the newline before reporting a bare instruction.
        assert!(error("FROM foo\nSYSTEM\n").starts_with("(line 3): command must be one of"));
    }

    #[test]
    fn missing_from() {
        assert_eq!(error(""), "no FROM line");
        assert_eq!(error("# only a comment\n"), "no FROM line");
        assert_eq!(error("PARAMETER temperature 1"), "no FROM line");
        // FROM is checked before parameters are typed, as in Ollama.
        assert_eq!(error("PARAMETER bogus 1\n"), "no FROM line");
        assert_eq!(parse("PARAMETER top_k 1\nFROM foo").unwrap().from, ["foo"]);
    }

    #[test]
    fn messages_and_roles() {
        let file = parse("FROM foo\nMESSAGE system \"\"\"\nYou are a parser.\n\"\"\"\n").unwrap();
        assert_eq!(file.messages, [cmd("system", "\nYou are a parser.\n")]);
        let err = parse("\nFROM foo\nMESSAGE badguy I'm a bad guy!\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "(line 3): message role must be one of \"system\", \"user\", or \"assistant\""
        );
        assert!(error("FROM foo\nMESSAGE User hi\n").contains("message role must be"));
        assert_eq!(
            error("FROM foo\nMESSAGE system\n"),
            "unexpected EOF: system"
        );
        assert_eq!(error("FROM foo\nMESSAGE system"), "unexpected EOF");
    }

    #[test]
    fn parameter_typing_and_errors() {
        let params =
            |line: &str| parse(&format!("FROM foo\nPARAMETER {line}\n")).map(|f| f.parameters);
        assert_eq!(params("top_p 1.0").unwrap()["top_p"], json!(1));
        assert_eq!(params("min_p 0.05").unwrap()["min_p"], json!(0.05));
        assert_eq!(params("seed -1").unwrap()["seed"], json!(-1));
        assert_eq!(
            params("stop ### User: ").unwrap()["stop"],
            json!(["### User:"])
        );
        assert_eq!(
            params("stop \"### User: \"").unwrap()["stop"],
            json!(["### User: "])
        );
        assert_eq!(
            params("stop \"\"\"### User:\n\"\"\"").unwrap()["stop"],
            json!(["### User:\n"])
        );
        let msg = |line: &str| params(line).unwrap_err().to_string();
        assert_eq!(msg("temperature hot"), "invalid float value [hot]");
        assert_eq!(msg("num_ctx 4k"), "invalid int value [4k]");
        assert_eq!(msg("use_mmap maybe"), "invalid bool value [maybe]");
        assert_eq!(msg("num_gqa 1"), "unknown parameter 'num_gqa'");
        assert_eq!(msg("numa true"), "unknown parameter 'numa'");
        assert_eq!(msg("Temperature 1"), "unknown parameter 'Temperature'");
        assert_eq!(msg("num-ctx 1"), "unexpected EOF: num");
        assert_eq!(
            error("FROM foo\nPARAMETER param1\n"),
            "unexpected EOF: param1"
        );
    }

    #[test]
    fn repeated_parameters() {
        let file = parse("FROM foo\nPARAMETER temperature 1\nPARAMETER temperature 0.5\nPARAMETER stop a\nPARAMETER stop b\n").unwrap();
        assert_eq!(file.parameters["temperature"], json!(0.5));
        assert_eq!(file.parameters["stop"], json!(["a", "b"]));
    }

    #[test]
    fn deprecated_parameters_warn_and_are_dropped() {
        let file = parse(
            "FROM foo\nPARAMETER mirostat 2\nPARAMETER penalize_newline true\nPARAMETER top_k 5\n",
        )
        .unwrap();
        assert_eq!(
            file.warnings,
            [
                "warning: parameter mirostat is deprecated",
                "warning: parameter penalize_newline is deprecated"
            ]
        );
        assert_eq!(Value::Object(file.parameters), json!({"top_k": 5}));
    }

    #[test]
    fn crlf_line_endings() {
        let file = parse("FROM foo\r\nSYSTEM \"\"\"a\r\nb\"\"\"\r\nPARAMETER top_k 3\r\n").unwrap();
        assert_eq!(file.system.as_deref(), Some("a\r\nb"));
        assert_eq!(file.parameters["top_k"], json!(3));
        // Ollama counts both '\r' and '\n', so line numbers double.
        let err = parse("FROM foo\r\nBAD x\r\n").unwrap_err();
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn requires_must_be_semver() {
        let requires = |v: &str| parse(&format!("FROM foo\nREQUIRES {v}\n")).map(|f| f.requires);
        assert_eq!(requires("0.14.0").unwrap().as_deref(), Some("0.14.0"));
        assert_eq!(requires("v0.14.0").unwrap().as_deref(), Some("0.14.0"));
        assert_eq!(requires("1").unwrap().as_deref(), Some("1"));
        assert_eq!(requires("1.2").unwrap().as_deref(), Some("1.2"));
        assert_eq!(
            requires("1.2.3-rc.1+build.5").unwrap().as_deref(),
            Some("1.2.3-rc.1+build.5")
        );
        for bad in [
            "latest", "1.2-rc1", "01.2.3", "1.2.3.4", "1.2.3-01", "1.2.3-", "1..2",
        ] {
            assert_eq!(
                requires(bad).unwrap_err().to_string(),
                "requires must be a valid semver (e.g. 0.14.0)",
                "{bad}"
            );
        }
    }

    #[test]
    fn drafts_and_multiple_froms() {
        let file = parse("FROM ./model.gguf\nFROM ./mmproj.gguf\nDRAFT ./draft.gguf\n").unwrap();
        assert_eq!(file.from, ["./model.gguf", "./mmproj.gguf"]);
        assert_eq!(file.drafts, ["./draft.gguf"]);
    }

    #[test]
    fn builds_a_create_request() {
        let file =
            parse("FROM foo\nSYSTEM s\nLICENSE a\nLICENSE b\nPARAMETER top_k 2\nMESSAGE user hi\n")
                .unwrap();
        let request = file.to_create_request("mine");
        assert_eq!(request.model, "mine");
        assert_eq!(request.system, "s");
        assert_eq!(request.licenses(), ["a", "b"]);
        assert_eq!(request.parameters["top_k"], json!(2));
        assert_eq!(request.messages, [Message::user("hi")]);
        assert!(request.from.is_empty() && request.files.is_empty());
    }
}
