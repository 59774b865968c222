//! The response object of one reply: its ids and times, the request
//! settings every response object echoes, and the output items (an
//! assistant message, function calls).

use hearth_api::openai::{
    OutputContent, OutputItem, Reasoning, ResponseObject, ResponseUsage, ResponsesRequest,
    SummaryText,
};
use hearth_api::ToolCall;
use serde_json::{json, Map, Value};

use crate::answer::{Collected, Ending};
use crate::ids;

/// What every response object of one reply shares.
pub struct Reply {
    id: String,
    created_at: i64,
    model: String,
    instructions: Option<String>,
    max_output_tokens: Option<i64>,
    temperature: f64,
    top_p: f64,
    tools: Vec<Value>,
    text: Value,
    reasoning: Option<Reasoning>,
}

impl Reply {
    pub fn new(req: &ResponsesRequest) -> Self {
        let format = req
            .text
            .as_ref()
            .and_then(|t| t.format.clone())
            .unwrap_or(json!({"type": "text"}));
        Self {
            id: ids::new("resp_"),
            created_at: ids::unix_now(),
            model: req.model.clone(),
            instructions: req.instructions.clone(),
            max_output_tokens: req.max_output_tokens,
            temperature: req.temperature.unwrap_or(1.0),
            top_p: req.top_p.unwrap_or(1.0),
            tools: req.tools.clone(),
            text: json!({ "format": format }),
            reasoning: req.reasoning.clone(),
        }
    }

    /// The response object in a state; `ending` adds the usage and the
    /// completion time.
    pub fn object(
        &self,
        status: &str,
        output: Vec<OutputItem>,
        ending: Option<&Ending>,
    ) -> ResponseObject {
        ResponseObject {
            id: self.id.clone(),
            object: "response".into(),
            created_at: self.created_at,
            completed_at: ending.map(|_| ids::unix_now()),
            status: status.into(),
            model: self.model.clone(),
            output,
            usage: ending.map(|e| ResponseUsage::new(e.prompt_tokens, e.completion_tokens)),
            instructions: self.instructions.clone(),
            max_output_tokens: self.max_output_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            tools: self.tools.clone(),
            tool_choice: json!("auto"),
            parallel_tool_calls: true,
            truncation: "disabled".into(),
            text: self.text.clone(),
            reasoning: self.reasoning.clone(),
            store: false,
            service_tier: "default".into(),
            metadata: Map::new(),
            error: None,
            incomplete_details: None,
            previous_response_id: None,
            max_tool_calls: None,
            safety_identifier: None,
            prompt_cache_key: None,
        }
    }

    /// The finished object of a non-streamed reply.
    pub fn completed(&self, answer: &Collected) -> ResponseObject {
        let mut output = Vec::new();
        if !answer.reasoning.is_empty() {
            output.push(reasoning_item(&ids::new("rs_"), Some(&answer.reasoning)));
        }
        if !answer.text.is_empty() || answer.tool_calls.is_empty() {
            output.push(message(&ids::new("msg_"), "completed", &answer.text));
        }
        output.extend(answer.tool_calls.iter().map(|c| function_call(c, true)));
        self.object("completed", output, Some(&answer.ending))
    }
}

/// An assistant message item with one `output_text` part (none while it is
/// being opened in a stream).
pub fn message(id: &str, status: &str, text: &str) -> OutputItem {
    OutputItem::Message {
        id: id.into(),
        status: status.into(),
        role: "assistant".into(),
        content: if status == "in_progress" {
            Vec::new()
        } else {
            vec![output_text(text)]
        },
    }
}

/// A reasoning item; `None` while it is being opened in a stream (no
/// summary yet).
pub fn reasoning_item(id: &str, text: Option<&str>) -> OutputItem {
    OutputItem::Reasoning {
        id: id.into(),
        summary: text
            .map(|t| SummaryText::SummaryText { text: t.into() })
            .into_iter()
            .collect(),
    }
}

pub fn output_text(text: &str) -> OutputContent {
    OutputContent::OutputText {
        text: text.into(),
        annotations: Vec::new(),
        logprobs: Vec::new(),
    }
}

/// A tool call as a `function_call` item; `call_id` is the native call id,
/// which a later `function_call_output` names. An item being opened in a
/// stream is `in_progress` with no arguments yet.
pub fn function_call(call: &ToolCall, done: bool) -> OutputItem {
    OutputItem::FunctionCall {
        id: function_call_id(call),
        status: if done { "completed" } else { "in_progress" }.into(),
        call_id: call.id.clone(),
        name: call.function.name.clone(),
        arguments: if done { arguments(call) } else { String::new() },
    }
}

pub fn function_call_id(call: &ToolCall) -> String {
    format!("fc_{}", call.id.trim_start_matches("call_"))
}

/// The arguments as JSON text.
pub fn arguments(call: &ToolCall) -> String {
    Value::Object(call.function.arguments.clone()).to_string()
}
