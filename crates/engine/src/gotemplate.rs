//! Go `text/template` prompt templates, as Ollama's Modelfiles and registry
//! models write them (`{{ .System }}`, `{{ range .Messages }}`…).
//!
//! Rendered with the `gtmpl` engine plus the functions Ollama adds (`json`,
//! `slice`, `currentDate`, `yesterdayDate`). Two styles exist, as in
//! Ollama: templates that range over `.Messages` are executed once with the
//! whole conversation; legacy templates (`.System`, `.Prompt`, `.Response`
//! only) are executed once per user/assistant exchange and concatenated,
//! with everything after `{{ .Response }}` cut from the final exchange.

use std::collections::HashMap;

use gtmpl::{Context, Template};
use gtmpl_value::{FuncError, Number, Value};
use serde_json::Value as Json;

use crate::template::TemplateInput;
use crate::EngineError;

/// Whether `source` is a Go template rather than Jinja: Go templates reach
/// fields with a leading dot (`.Prompt`) and have no `{% %}` blocks.
pub fn is_go_template(source: &str) -> bool {
    if source.contains("{%") {
        return false;
    }
    let mut rest = source;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        let action = after[..end].trim_start_matches('-').trim();
        let mut chars = action.chars();
        let dotted =
            action.starts_with('.') && chars.nth(1).is_some_and(|c| c.is_ascii_uppercase());
        let keyword = ["if .", "range .", "range $", "with .", "end", "else", "$"]
            .iter()
            .any(|k| action.starts_with(k));
        if dotted || keyword || action.contains(" .") {
            return true;
        }
        rest = &after[end..];
    }
    false
}

/// Checks that `source` parses as a Go template.
pub fn validate(source: &str) -> Result<(), EngineError> {
    parse(source).map(|_| ())
}

/// Renders `source` for `input` with Ollama's semantics.
pub fn render(source: &str, input: &TemplateInput<'_>) -> Result<String, EngineError> {
    let messages_style = source.contains(".Messages");
    let source = if messages_style || source.contains(".Response") {
        source.to_string()
    } else {
        format!("{source}{{{{ .Response }}}}")
    };
    let template = parse(&source)?;
    let system = input
        .messages
        .iter()
        .filter(|m| role(m) == "system")
        .map(content)
        .collect::<Vec<_>>()
        .join("\n\n");
    if messages_style {
        let mut ctx = base_context(&system, input);
        ctx.insert("Messages".into(), Value::Array(collate(input.messages)));
        ctx.insert("Prompt".into(), Value::from(""));
        ctx.insert("Response".into(), Value::from(""));
        return execute(&template, ctx);
    }
    render_legacy(&template, &system, input)
}

/// Whether the template can fill in the middle (it uses `.Suffix`).
pub fn supports_insert(source: &str) -> bool {
    is_go_template(source) && source.contains(".Suffix")
}

/// Renders a fill-in-the-middle prompt: the template executed with
/// `.Prompt`, `.Suffix` and an empty `.Response`, as Ollama does.
pub fn render_fim(source: &str, prompt: &str, suffix: &str) -> Result<String, EngineError> {
    let template = parse(source)?;
    let mut ctx = base_context("", &TemplateInput::default());
    ctx.insert("Prompt".into(), Value::from(prompt));
    ctx.insert("Suffix".into(), Value::from(suffix));
    ctx.insert("Response".into(), Value::from(""));
    execute(&template, ctx)
}

const RESPONSE_MARK: &str = "\u{1}HEARTH-RESPONSE\u{1}";

/// Legacy templates: one execution per exchange; the final one is cut
/// where the response would start.
fn render_legacy(
    template: &Template,
    system: &str,
    input: &TemplateInput<'_>,
) -> Result<String, EngineError> {
    let turns: Vec<&Json> = input
        .messages
        .iter()
        .filter(|m| role(m) != "system")
        .collect();
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    for m in turns {
        match role(m).as_str() {
            "assistant" => match pairs.last_mut() {
                Some((_, response @ None)) => *response = Some(content(m)),
                _ => pairs.push((String::new(), Some(content(m)))),
            },
            _ => pairs.push((content(m), None)),
        }
    }
    if pairs.is_empty() {
        pairs.push((String::new(), None));
    }
    let mut out = String::new();
    let last = pairs.len() - 1;
    for (i, (prompt, response)) in pairs.into_iter().enumerate() {
        let mut ctx = base_context(if i == 0 { system } else { "" }, input);
        ctx.insert("Prompt".into(), Value::from(prompt));
        let is_final = i == last && response.is_none();
        let response = if is_final {
            RESPONSE_MARK.to_string()
        } else {
            response.unwrap_or_default()
        };
        ctx.insert("Response".into(), Value::from(response));
        let text = execute(template, ctx)?;
        match text.find(RESPONSE_MARK) {
            Some(at) if is_final => out.push_str(&text[..at]),
            _ => out.push_str(&text),
        }
    }
    Ok(out)
}

fn base_context(system: &str, input: &TemplateInput<'_>) -> HashMap<String, Value> {
    let mut ctx = HashMap::new();
    ctx.insert("System".into(), Value::from(system));
    let tools = input
        .tools
        .map(|t| tools_value(t, 0))
        .unwrap_or(Value::Array(Vec::new()));
    ctx.insert("Tools".into(), tools);
    ctx.insert("Think".into(), Value::Bool(input.think));
    ctx.insert(
        "ThinkLevel".into(),
        Value::from(input.think_level.unwrap_or("")),
    );
    ctx.insert("IsThinkSet".into(), Value::Bool(input.think_set));
    ctx.insert("Suffix".into(), Value::from(""));
    ctx
}

/// Messages as Ollama hands them to templates: consecutive messages of the
/// same role merged with a blank line (tool results excepted), fields in Go
/// spelling.
fn collate(messages: &[Json]) -> Vec<Value> {
    let mut out: Vec<(String, String, &Json)> = Vec::new();
    for m in messages {
        let (r, c) = (role(m), content(m));
        match out.last_mut() {
            Some((last_role, last_content, _)) if *last_role == r && r != "tool" => {
                last_content.push_str("\n\n");
                last_content.push_str(&c);
            }
            _ => out.push((r, c, m)),
        }
    }
    out.into_iter()
        .map(|(r, c, m)| {
            let mut fields = HashMap::new();
            fields.insert("Role".to_string(), Value::from(r));
            fields.insert("Content".to_string(), Value::from(c));
            let text = |key: &str| Value::from(m.get(key).and_then(Json::as_str).unwrap_or(""));
            fields.insert("Thinking".to_string(), text("thinking"));
            fields.insert("ToolName".to_string(), text("tool_name"));
            fields.insert("ToolCallID".to_string(), text("tool_call_id"));
            let calls = m
                .get("tool_calls")
                .and_then(Json::as_array)
                .map(|c| c.iter().map(tool_call).collect())
                .unwrap_or_default();
            fields.insert("ToolCalls".to_string(), Value::Array(calls));
            fields.insert("Images".to_string(), Value::Array(Vec::new()));
            Value::Object(fields)
        })
        .collect()
}

fn tool_call(call: &Json) -> Value {
    let f = call.get("function").cloned().unwrap_or(Json::Null);
    let mut function = HashMap::new();
    function.insert(
        "Name".to_string(),
        Value::from(f.get("name").and_then(Json::as_str).unwrap_or("")),
    );
    function.insert(
        "Index".to_string(),
        Value::from(f.get("index").and_then(Json::as_i64).unwrap_or(0)),
    );
    // Arguments print as compact JSON in Ollama's templates.
    let args = f
        .get("arguments")
        .cloned()
        .unwrap_or(Json::Object(Default::default()));
    function.insert("Arguments".to_string(), Value::from(args.to_string()));
    let mut out = HashMap::new();
    out.insert(
        "ID".to_string(),
        Value::from(call.get("id").and_then(Json::as_str).unwrap_or("")),
    );
    out.insert("Function".to_string(), Value::Object(function));
    Value::Object(out)
}

fn role(m: &Json) -> String {
    m.get("role")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

fn content(m: &Json) -> String {
    m.get("content")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

fn parse(source: &str) -> Result<Template, EngineError> {
    let mut t = Template::default();
    t.add_func("slice", slice);
    t.add_func("json", json);
    t.add_func("currentDate", current_date);
    t.add_func("yesterdayDate", yesterday_date);
    t.parse(source)
        .map_err(|e| EngineError::InvalidRequest(format!("template error: {e}")))?;
    Ok(t)
}

fn execute(template: &Template, ctx: HashMap<String, Value>) -> Result<String, EngineError> {
    template
        .render(&Context::from(Value::Object(ctx)))
        .map_err(|e| EngineError::InvalidRequest(format!("template error: {e}")))
}

/// Key under which a tool-definition object carries its own JSON text, so
/// `{{ json .Function }}` prints keys in the order the client sent them
/// (template objects are hash maps and forget the order).
const ORIGINAL_JSON: &str = "\u{0}json";

/// What a node of a tool definition is, for its Go field names.
#[derive(Clone, Copy)]
enum ToolNode {
    Tool,
    Function,
    Schema,
    Properties,
}

/// Tool definitions → template values. Fields get Ollama's Go names
/// (`.Type`, `.Function.Name`, `.Function.Parameters.Properties`…) beside
/// their JSON names, and the tool, function and parameters objects keep
/// their original JSON for `json` (not deeper, where templates may range
/// over property maps).
fn tools_value(v: &Json, depth: usize) -> Value {
    match v {
        Json::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| tool_node(i, ToolNode::Tool, depth))
                .collect(),
        ),
        other => tool_node(other, ToolNode::Tool, depth),
    }
}

fn tool_node(v: &Json, node: ToolNode, depth: usize) -> Value {
    let Json::Object(o) = v else {
        return to_value(v);
    };
    let mut map = HashMap::new();
    for (key, value) in o {
        let (child, alias) = match (node, key.as_str()) {
            (ToolNode::Properties, _) => (tool_node(value, ToolNode::Schema, depth + 1), None),
            (ToolNode::Tool, "function") => (
                tool_node(value, ToolNode::Function, depth + 1),
                Some("Function"),
            ),
            (ToolNode::Function, "parameters") => (
                tool_node(value, ToolNode::Schema, depth + 1),
                Some("Parameters"),
            ),
            (ToolNode::Schema, "properties") => (
                tool_node(value, ToolNode::Properties, depth + 1),
                Some("Properties"),
            ),
            (ToolNode::Schema, "items") => {
                (tool_node(value, ToolNode::Schema, depth + 1), Some("Items"))
            }
            (_, k) => (to_value(value), go_field(k)),
        };
        if let Some(alias) = alias {
            map.insert(alias.to_string(), child.clone());
        }
        map.insert(key.clone(), child);
    }
    if depth < 3 && !matches!(node, ToolNode::Properties) {
        map.insert(ORIGINAL_JSON.to_string(), Value::from(v.to_string()));
    }
    Value::Object(map)
}

/// Whether `key` is a Go-name alias added beside its JSON-named twin.
fn is_alias(key: &str, map: &HashMap<String, Value>) -> bool {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) if first.is_uppercase() => {
            let twin: String = first.to_lowercase().chain(chars).collect();
            map.contains_key(&twin)
        }
        _ => false,
    }
}

/// Ollama's Go field name for a JSON key of a tool definition.
fn go_field(key: &str) -> Option<&'static str> {
    Some(match key {
        "type" => "Type",
        "name" => "Name",
        "description" => "Description",
        "required" => "Required",
        "enum" => "Enum",
        "anyOf" => "AnyOf",
        _ => return None,
    })
}

/// JSON → template values; object keys keep their spelling.
fn to_value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_f64().map(Value::from))
            .unwrap_or(Value::Nil),
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(a) => Value::Array(a.iter().map(to_value).collect()),
        Json::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::Nil | Value::NoValue => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Number(n) => number_json(n),
        Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Value::Object(o) | Value::Map(o) => {
            if let Some(Value::String(original)) = o.get(ORIGINAL_JSON) {
                // A tool definition: print it as the client sent it.
                if let Ok(json) = serde_json::from_str(original) {
                    return json;
                }
            }
            // No order survives in a hash map: sort, as Go's encoder sorts map keys.
            let sorted: std::collections::BTreeMap<&String, Json> = o
                .iter()
                .filter(|(k, _)| *k != ORIGINAL_JSON && !is_alias(k, o))
                .map(|(k, v)| (k, to_json(v)))
                .collect();
            Json::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Function(_) => Json::Null,
    }
}

fn number_json(n: &Number) -> Json {
    if let Some(i) = n.as_i64() {
        Json::from(i)
    } else if let Some(f) = n.as_f64() {
        Json::from(f)
    } else {
        Json::Null
    }
}

fn slice(args: &[Value]) -> Result<Value, FuncError> {
    let index = |v: Option<&Value>, default: usize| match v {
        Some(Value::Number(n)) => n.as_u64().map_or(default, |x| x as usize),
        _ => default,
    };
    match args.first() {
        Some(Value::Array(items)) => {
            let start = index(args.get(1), 0).min(items.len());
            let end = index(args.get(2), items.len()).clamp(start, items.len());
            Ok(Value::Array(items[start..end].to_vec()))
        }
        Some(Value::String(s)) => {
            let chars: Vec<char> = s.chars().collect();
            let start = index(args.get(1), 0).min(chars.len());
            let end = index(args.get(2), chars.len()).clamp(start, chars.len());
            Ok(Value::from(chars[start..end].iter().collect::<String>()))
        }
        _ => Err(FuncError::Generic(
            "slice of a value that is not a list".into(),
        )),
    }
}

fn json(args: &[Value]) -> Result<Value, FuncError> {
    let v = args
        .first()
        .ok_or_else(|| FuncError::ExactlyXArgs("json".into(), 1))?;
    if let Value::Object(map) = v {
        if let Some(Value::String(original)) = map.get(ORIGINAL_JSON) {
            return Ok(Value::from(original.clone()));
        }
    }
    Ok(Value::from(to_json(v).to_string()))
}

fn current_date(_: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(
        chrono::Local::now().format("%Y-%m-%d").to_string(),
    ))
}

fn yesterday_date(_: &[Value]) -> Result<Value, FuncError> {
    let day = chrono::Local::now() - chrono::Duration::days(1);
    Ok(Value::from(day.format("%Y-%m-%d").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(messages: &[Json]) -> TemplateInput<'_> {
        TemplateInput {
            messages,
            add_generation_prompt: true,
            ..TemplateInput::default()
        }
    }

    #[test]
    fn detects_go_and_jinja() {
        assert!(is_go_template("{{ .Prompt }}"));
        assert!(is_go_template(
            "{{- range .Messages }}{{ .Content }}{{ end }}"
        ));
        assert!(is_go_template("{{ if .System }}x{{ end }}"));
        assert!(!is_go_template(
            "{% for m in messages %}{{ m.content }}{% endfor %}"
        ));
        assert!(!is_go_template(
            "{{ bos_token }}{{ messages[0]['content'] }}"
        ));
    }

    #[test]
    fn messages_style_template_with_slice() {
        let src = "{{- if .System }}S:{{ .System }}\n{{ end }}{{- range $i, $_ := .Messages }}{{- $last := eq (len (slice $.Messages $i)) 1 }}{{ .Role }}:{{ .Content }}\n{{ if $last }}assistant:{{ end }}{{- end }}";
        let m = vec![
            json!({"role": "system", "content": "Be nice"}),
            json!({"role": "user", "content": "Hi"}),
            json!({"role": "user", "content": "there"}),
        ];
        let out = render(src, &input(&m)).unwrap();
        assert_eq!(
            out,
            "S:Be nice\nsystem:Be nice\nuser:Hi\n\nthere\nassistant:"
        );
    }

    #[test]
    fn legacy_template_runs_per_exchange_and_cuts_the_last_response() {
        let src =
            "{{ if .System }}<s>{{ .System }}</s>{{ end }}[U]{{ .Prompt }}[A]{{ .Response }}[END]";
        let m = vec![
            json!({"role": "system", "content": "sys"}),
            json!({"role": "user", "content": "one"}),
            json!({"role": "assistant", "content": "uno"}),
            json!({"role": "user", "content": "two"}),
        ];
        let out = render(src, &input(&m)).unwrap();
        assert_eq!(out, "<s>sys</s>[U]one[A]uno[END][U]two[A]");
    }

    #[test]
    fn prompt_only_template_gets_the_prompt() {
        let m = vec![json!({"role": "user", "content": "hello"})];
        assert_eq!(render("{{ .Prompt }}", &input(&m)).unwrap(), "hello");
    }

    #[test]
    fn fill_in_the_middle() {
        let src = "{{ if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{ else }}{{ .Prompt }}{{ end }}";
        assert!(supports_insert(src));
        assert_eq!(
            render_fim(src, "def f(", "return x").unwrap(),
            "<PRE> def f( <SUF>return x <MID>"
        );
    }

    #[test]
    fn parse_errors_are_template_errors() {
        let err = validate("{{ if .System }}").unwrap_err();
        assert!(err.to_string().starts_with("template error:"), "{err}");
    }
}
