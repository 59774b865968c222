//! `tool_choice` of the compatible APIs: which of the offered tools the
//! model gets to see. Tools render into the prompt, so "none" hides them
//! all and a named tool hides the others; "auto" and "required" keep them
//! all (nothing forces a call yet).

use hearth_api::Tool;
use serde_json::Value;

/// What a request's `tool_choice` allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    All,
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
            Some("tool") => Self::named(choice.and_then(|c| c.get("name"))),
            _ => ToolChoice::All,
        }
    }

    fn parse(choice: Option<&Value>, none: &str, name: impl Fn(&Value) -> Option<&Value>) -> Self {
        match choice {
            Some(Value::String(s)) if s == none => ToolChoice::Nothing,
            Some(c @ Value::Object(_)) => Self::named(name(c)),
            _ => ToolChoice::All,
        }
    }

    fn named(name: Option<&Value>) -> Self {
        name.and_then(Value::as_str)
            .map_or(ToolChoice::All, |n| ToolChoice::Only(n.to_string()))
    }

    /// The tools the model may see.
    pub fn apply(&self, tools: Vec<Tool>) -> Vec<Tool> {
        match self {
            ToolChoice::All => tools,
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
            ToolChoice::All
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
            ToolChoice::All
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
}
