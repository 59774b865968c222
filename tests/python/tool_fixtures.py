"""Shared fixtures for the tool-call tests (the same as tests/support/tools.rs).

A Go template that knows tools (they are listed in a system turn, an
assistant's tool calls render as JSON and tool results as "[name] content"),
the get_weather tool, and a JSON schema that forces a random-weight model's
answer into the shape of a call to it.
"""

TOOL_TEMPLATE = """{{- if .Tools }}<|im_start|>system
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
"""

CITIES = ("Paris", "Tokyo")

CALL_SCHEMA = {
    "type": "object",
    "required": ["name", "arguments"],
    "additionalProperties": False,
    "properties": {
        "name": {"const": "get_weather"},
        "arguments": {
            "type": "object",
            "required": ["city"],
            "additionalProperties": False,
            "properties": {"city": {"enum": list(CITIES)}},
        },
    },
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string", "enum": list(CITIES)}},
        },
    },
}
