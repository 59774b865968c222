//! `tool_choice` of the compatible APIs: which of the offered tools the
//! model gets to see, and whether it must call one. Tools render into the
//! prompt, so "none" hides them all and a named tool hides the others.
//! "required" (Anthropic: `any`) and a named tool also force a call: the
//! answer is constrained by a grammar to the JSON of a call to one of the
//! allowed tools with arguments matching its parameters' schema — which
//! works with any model, trained for tools or not.

use hearth_api::Tool;
use serde_json::Value;

/// What a request's `tool_choice` allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    All,
    /// Every tool offered, and the model must call one.
    Required,
    Nothing,
    Only(String),
}

impl ToolChoice {
    /// OpenAI chat: `"none"`, or `{"type":"function","function":{"name"}}`.
    pub fn openai_chat(choice: Option<&Value>) -> Self {
        Self::parse(choice, "none", |c| c.get("function")?.get("name"))
    }

    /// Responses: `"none"`, or `{"type":"function","name"}`.
    pub fn responses(choice: Option<&Value>) -> Self {
        Self::parse(choice, "none", |c| c.get("name"))
    }

    /// Anthropic: `{"type":"none"}`, or `{"type":"tool","name"}`.
    pub fn anthropic(choice: Option<&Value>) -> Self {
        match choice.and_then(|c| c.get("type")).and_then(Value::as_str) {
            Some("none") => ToolChoice::Nothing,
            Some("any") => ToolChoice::Required,
            Some("tool") => Self::named(choice.and_then(|c| c.get("name"))),
            _ => ToolChoice::All,
        }
    }

    fn parse(choice: Option<&Value>, none: &str, name: impl Fn(&Value) -> Option<&Value>) -> Self {
        match choice {
            Some(Value::String(s)) if s == none => ToolChoice::Nothing,
            Some(Value::String(s)) if s == "required" => ToolChoice::Required,
            Some(c @ Value::Object(_)) => Self::named(name(c)),
            _ => ToolChoice::All,
        }
    }

    fn named(name: Option<&Value>) -> Self {
        name.and_then(Value::as_str)
            .map_or(ToolChoice::All, |n| ToolChoice::Only(n.to_string()))
    }

    /// The native `format` that forces a call of one of `tools` (already
    /// filtered by [`apply`](Self::apply)), when this choice forces one.
    pub fn forced_format(&self, tools: &[Tool]) -> Option<Value> {
        if !matches!(self, ToolChoice::Required | ToolChoice::Only(_)) || tools.is_empty() {
            return None;
        }
        let calls: Vec<Value> = tools
            .iter()
            .map(|t| {
                let arguments = match &t.function.parameters {
                    Value::Object(schema) if !schema.is_empty() => Value::Object(schema.clone()),
                    _ => serde_json::json!({"type": "object"}),
                };
                serde_json::json!({
                    "type": "object",
                    "required": ["name", "arguments"],
                    "additionalProperties": false,
                    "properties": {"name": {"const": t.function.name}, "arguments": arguments},
                })
            })
            .collect();
        Some(if calls.len() == 1 {
            calls.into_iter().next().expect("one call")
        } else {
            serde_json::json!({"anyOf": calls})
        })
    }

    /// The tools the model may see.
    pub fn apply(&self, tools: Vec<Tool>) -> Vec<Tool> {
        match self {
            ToolChoice::All | ToolChoice::Required => tools,
            ToolChoice::Nothing => Vec::new(),
            ToolChoice::Only(name) => tools
                .into_iter()
                .filter(|t| &t.function.name == name)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_api_s_spelling() {
        assert_eq!(
            ToolChoice::openai_chat(Some(&json!("none"))),
            ToolChoice::Nothing
        );
        assert_eq!(
            ToolChoice::openai_chat(Some(&json!("required"))),
            ToolChoice::Required
        );
        assert_eq!(
            ToolChoice::openai_chat(Some(
                &json!({"type": "function", "function": {"name": "f"}})
            )),
            ToolChoice::Only("f".into())
        );
        assert_eq!(
            ToolChoice::responses(Some(&json!({"type": "function", "name": "f"}))),
            ToolChoice::Only("f".into())
        );
        assert_eq!(
            ToolChoice::anthropic(Some(&json!({"type": "none"}))),
            ToolChoice::Nothing
        );
        assert_eq!(
            ToolChoice::anthropic(Some(&json!({"type": "tool", "name": "f"}))),
            ToolChoice::Only("f".into())
        );
        assert_eq!(
            ToolChoice::anthropic(Some(&json!({"type": "any"}))),
            ToolChoice::Required
        );
        assert_eq!(ToolChoice::anthropic(None), ToolChoice::All);
    }

    #[test]
    fn a_named_tool_hides_the_others() {
        let tool = |n: &str| Tool {
            kind: "function".into(),
            items: None,
            function: hearth_api::ToolFunction {
                name: n.into(),
                ..Default::default()
            },
        };
        let kept = ToolChoice::Only("b".into()).apply(vec![tool("a"), tool("b")]);
        assert_eq!(kept, vec![tool("b")]);
    }

    #[test]
    fn forcing_choices_constrain_the_answer_to_a_call() {
        let tool = |name: &str| Tool {
            kind: "function".into(),
            items: None,
            function: hearth_api::ToolFunction {
                name: name.into(),
                parameters: json!({"type": "object", "properties": {"x": {"type": "integer"}}}),
                ..Default::default()
            },
        };
        assert_eq!(
            ToolChoice::anthropic(Some(&json!({"type": "any"}))),
            ToolChoice::Required
        );
        assert_eq!(ToolChoice::All.forced_format(&[tool("f")]), None);
        let one = ToolChoice::Only("f".into())
            .forced_format(&[tool("f")])
            .unwrap();
        assert_eq!(one["properties"]["name"], json!({"const": "f"}));
        assert_eq!(
            one["properties"]["arguments"]["properties"]["x"]["type"],
            "integer"
        );
        let any = ToolChoice::Required
            .forced_format(&[tool("f"), tool("g")])
            .unwrap();
        assert_eq!(any["anyOf"].as_array().unwrap().len(), 2);
        assert_eq!(ToolChoice::Required.forced_format(&[]), None);
    }
}
