// Shared fixtures of the JS suites (the same as tests/support/tools.rs and
// tests/python/tool_fixtures.py): a Go template that renders tools, the
// get_weather tool, and Zod shapes for forced, grammar-constrained answers.

import { z } from 'zod'

export const TOOLS_TEMPLATE = `{{- if .Tools }}<|im_start|>system
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
`

export const Verdict = z.object({
  answer: z.enum(['yes', 'no', 'maybe']),
  confidence: z.int().min(0).max(9),
  tags: z.array(z.enum(['a', 'b'])).max(2),
})

export const WeatherArgs = z.object({ city: z.enum(['Paris', 'Tokyo']) })

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: z.toJSONSchema(WeatherArgs),
  },
}
