//! Shared fixtures for tool-call tests: a Go template that renders tools
//! (ChatML turns), the `get_weather` tool, and a JSON schema that forces a
//! random-weight model's answer into the shape of a call to it.

use serde_json::{json, Value};

/// A ChatML template that renders `.Tools`, assistant tool calls and
/// tool results.
pub const TOOL_TEMPLATE: &str = r#"{{- if .Tools }}<|im_start|>system
Tools: {{ json .Tools }}<|im_end|>
{{ end }}
{{- range .Messages }}<|im_start|>{{ .Role }}
{{- if .ToolCalls }}
{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}{{ end }}
{{- else if eq .Role "tool" }}
[{{ .ToolName }}] {{ .Content }}
{{- else }}
{{ .Content }}
{{- end }}<|im_end|>
{{ end }}<|im_start|>assistant
"#;

/// The one tool the tests offer.
pub fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "enum": ["Paris", "Tokyo"]}}}}})
}

/// A schema whose only valid answers are calls of `get_weather`.
pub fn call_schema() -> Value {
    json!({"type": "object", "required": ["name", "arguments"], "additionalProperties": false,
           "properties": {"name": {"const": "get_weather"},
                          "arguments": {"type": "object", "required": ["city"], "additionalProperties": false,
                                        "properties": {"city": {"enum": ["Paris", "Tokyo"]}}}}})
}
