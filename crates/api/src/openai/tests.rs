//! Shapes of the OpenAI types: what decodes, and what keys are written.

use serde_json::json;

use super::*;

#[test]
fn chat_request_decodes_nulls_and_varying_fields() {
    let req: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "stop": "x", "tools": null, "response_format": {"type": "json_schema",
        "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": true}},
        "stream_options": {"include_usage": true}, "unknown": 1
    }))
    .unwrap();
    assert_eq!(req.messages.len(), 1);
    assert!(req.messages[0].content.as_ref().unwrap().is_array());
    assert!(req.tools.is_empty());
    assert!(!req.is_streaming());
    assert!(req.include_usage());
    let format = req.response_format.unwrap();
    assert_eq!(format.kind, "json_schema");
    assert_eq!(
        format.json_schema.unwrap().schema,
        Some(json!({"type": "object"}))
    );
}

#[test]
fn finish_chunk_has_empty_delta_and_null_reasons_are_written() {
    let chunk = ChatCompletionChunk {
        id: "chatcmpl-1".into(),
        object: "chat.completion.chunk".into(),
        created: 1,
        model: "m".into(),
        system_fingerprint: SYSTEM_FINGERPRINT.into(),
        choices: vec![ChatChunkChoice {
            index: 0,
            delta: ChatDelta::default(),
            finish_reason: Some(FinishReason::Length),
            logprobs: None,
        }],
        usage: None,
    };
    let v = serde_json::to_value(&chunk).unwrap();
    assert_eq!(v["choices"][0]["delta"], json!({}));
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert!(v.get("usage").is_none());
    let first = ChatChunkChoice {
        index: 0,
        delta: ChatDelta {
            role: Some("assistant".into()),
            content: Some(String::new()),
            ..ChatDelta::default()
        },
        finish_reason: None,
        logprobs: None,
    };
    let v = serde_json::to_value(&first).unwrap();
    assert_eq!(
        v,
        json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null})
    );
}

#[test]
fn error_envelope_keeps_null_param_and_code() {
    let e = ErrorResponse {
        error: ErrorBody {
            message: "m".into(),
            kind: "invalid_request_error".into(),
            param: None,
            code: None,
        },
    };
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"error": {"message": "m", "type": "invalid_request_error", "param": null, "code": null}})
    );
}

#[test]
fn completion_prompt_must_be_a_string() {
    let bad = serde_json::from_value::<CompletionRequest>(json!({"model": "m", "prompt": ["a"]}));
    assert!(bad.is_err());
}

#[test]
fn response_events_are_tagged_and_numbered() {
    let e = ResponseStreamEvent {
        event: ResponseEvent::OutputTextDelta {
            item_id: "msg_1".into(),
            output_index: 0,
            content_index: 0,
            delta: "hi".into(),
            logprobs: vec![],
        },
        sequence_number: 3,
    };
    assert_eq!(e.event.kind(), "response.output_text.delta");
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["type"], "response.output_text.delta");
    assert_eq!(v["sequence_number"], 3);
    assert_eq!(v["delta"], "hi");
    let item = OutputItem::Message {
        id: "msg_1".into(),
        status: "completed".into(),
        role: "assistant".into(),
        content: vec![OutputContent::OutputText {
            text: "hi".into(),
            annotations: vec![],
            logprobs: vec![],
        }],
    };
    let v = serde_json::to_value(&item).unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["type"], "output_text");
}
