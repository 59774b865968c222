//! Golden tests: templates in the style of popular model families (Llama 3,
//! Qwen 2.5, Mistral, Gemma, Phi-3), Go and Jinja, rendered for plain and
//! tool-using conversations, compared with the exact prompt text each
//! family expects; and the tool-call marker each one teaches.

use hearth_engine::gotemplate;
use hearth_engine::template::{self, TemplateInput};
use hearth_engine::tools::{ToolCallParser, ToolFormat, ToolOutput};
use serde_json::{json, Value};

fn source(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/templates")
        .join(name);
    let text = std::fs::read_to_string(path).expect("template file");
    // Files end with a newline; templates as models ship them do not.
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

fn render(name: &str, messages: &[Value], tools: Option<&Value>) -> String {
    let src = source(name);
    let input = TemplateInput {
        messages,
        tools,
        add_generation_prompt: true,
        bos_token: "<bos>",
        eos_token: "<eos>",
        ..TemplateInput::default()
    };
    if gotemplate::is_go_template(&src) {
        gotemplate::render(&src, &input).expect("renders")
    } else {
        template::render(&src, &input).expect("renders")
    }
}

fn chat() -> Vec<Value> {
    vec![
        json!({"role": "system", "content": "You are terse."}),
        json!({"role": "user", "content": "Hi"}),
        json!({"role": "assistant", "content": "Hello!"}),
        json!({"role": "user", "content": "What is 2+2?"}),
    ]
}

fn tool_chat() -> Vec<Value> {
    vec![
        json!({"role": "user", "content": "Weather in Paris?"}),
        json!({"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_abc12345", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}]}),
        json!({"role": "tool", "content": "18C", "tool_name": "get_weather", "tool_call_id": "call_abc12345"}),
    ]
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}}}])
}

/// The function as Go's encoder writes it (Go templates' `json`).
const FUNCTION_JSON: &str = r#"{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string"}}}}"#;

/// The tool as Python's `json.dumps` writes it (Jinja templates' `tojson`).
const TOOL_PY_JSON: &str = r#"{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}}}"#;

#[test]
fn llama3_chat() {
    assert_eq!(
        render("llama3.gotmpl", &chat(), None),
        "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
}

#[test]
fn llama3_tools() {
    let out = render("llama3.gotmpl", &tool_chat(), Some(&tools()));
    let expected = format!(
        "<|start_header_id|>system<|end_header_id|>\n\nYou can call functions. To call one, answer only with JSON of the form {{\"name\": function name, \"parameters\": arguments}}. Available functions:\n{FUNCTION_JSON}<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nWeather in Paris?<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n{{\"name\": \"get_weather\", \"parameters\": {{\"city\":\"Paris\"}}}}<|eot_id|>\
         <|start_header_id|>ipython<|end_header_id|>\n\n18C<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
    assert_eq!(out, expected);
    assert_eq!(ToolFormat::detect(&source("llama3.gotmpl")).open, "{");
}

#[test]
fn qwen_chat() {
    assert_eq!(
        render("qwen2.5.jinja", &chat(), None),
        "<|im_start|>system\nYou are terse.<|im_end|>\n\
         <|im_start|>user\nHi<|im_end|>\n\
         <|im_start|>assistant\nHello!<|im_end|>\n\
         <|im_start|>user\nWhat is 2+2?<|im_end|>\n\
         <|im_start|>assistant\n"
    );
}

#[test]
fn qwen_tools() {
    let out = render("qwen2.5.jinja", &tool_chat(), Some(&tools()));
    let expected = format!(
        "<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n<tools>\n\
         {TOOL_PY_JSON}\n</tools>\n\n\
         For each function call, return a json object within <tool_call></tool_call> XML tags.<|im_end|>\n\
         <|im_start|>user\nWeather in Paris?<|im_end|>\n\
         <|im_start|>assistant\n<tool_call>\n{{\"name\": \"get_weather\", \"arguments\": {{\"city\": \"Paris\"}}}}\n</tool_call><|im_end|>\n\
         <|im_start|>user\n<tool_response>\n18C\n</tool_response><|im_end|>\n\
         <|im_start|>assistant\n"
    );
    assert_eq!(out, expected);
    let format = ToolFormat::detect(&source("qwen2.5.jinja"));
    assert_eq!(format.open, "<tool_call>");
    let mut parser = ToolCallParser::new(format, vec!["get_weather".into()]);
    let mut outs = parser.push("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
    outs.extend(parser.finish());
    assert!(
        matches!(&outs[..], [ToolOutput::Calls(c)] if c[0].name == "get_weather"),
        "{outs:?}"
    );
}

#[test]
fn mistral_chat() {
    assert_eq!(
        render("mistral.gotmpl", &chat(), None),
        "[INST] Hi[/INST] Hello!</s>[INST] You are terse.\n\nWhat is 2+2?[/INST]"
    );
}

#[test]
fn mistral_tools() {
    // Tools are offered right before the user's latest question …
    let ask = [json!({"role": "user", "content": "Weather in Paris?"})];
    let out = render("mistral.gotmpl", &ask, Some(&tools()));
    let expected = format!(
        "[AVAILABLE_TOOLS] [{{\"type\":\"function\",\"function\":{FUNCTION_JSON}}}][/AVAILABLE_TOOLS][INST] Weather in Paris?[/INST]"
    );
    assert_eq!(out, expected);
    // … and calls and results render in Mistral's own markers.
    let out = render("mistral.gotmpl", &tool_chat(), None);
    assert_eq!(
        out,
        "[INST] Weather in Paris?[/INST]\
         [TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}]</s>\
         [TOOL_RESULTS] {\"content\": 18C}[/TOOL_RESULTS]"
    );
    assert_eq!(
        ToolFormat::detect(&source("mistral.gotmpl")).open,
        "[TOOL_CALLS]"
    );
}

#[test]
fn gemma_chat() {
    assert_eq!(
        render("gemma.jinja", &chat(), None),
        "<bos><start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n\
         <start_of_turn>model\nHello!<end_of_turn>\n\
         <start_of_turn>user\nWhat is 2+2?<end_of_turn>\n\
         <start_of_turn>model\n"
    );
}

#[test]
fn gemma_refuses_broken_alternation() {
    let src = source("gemma.jinja");
    let messages = [
        json!({"role": "user", "content": "a"}),
        json!({"role": "user", "content": "b"}),
    ];
    let input = TemplateInput {
        messages: &messages,
        add_generation_prompt: true,
        ..TemplateInput::default()
    };
    let err = template::render(&src, &input).unwrap_err();
    assert!(err.to_string().contains("roles must alternate"), "{err}");
}

#[test]
fn phi3_chat() {
    assert_eq!(
        render("phi3.jinja", &chat(), None),
        "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n"
    );
}
