//! Shapes of the Anthropic types.

use serde_json::json;

use super::*;

#[test]
fn request_decodes_string_and_block_content() {
    let req: MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 8, "system": [{"type": "text", "text": "s"}],
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "a"},
                {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "r"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]}
        ]
    }))
    .unwrap();
    assert_eq!(req.max_tokens, Some(8));
    assert!(matches!(req.messages[0].content, InputContent::Text(_)));
    let InputContent::Blocks(blocks) = &req.messages[2].content else {
        panic!("blocks expected");
    };
    assert!(matches!(blocks[1], InputBlock::Image { .. }));
}

#[test]
fn stream_events_are_tagged() {
    let e = StreamEvent::ContentBlockDelta {
        index: 0,
        delta: BlockDelta::TextDelta { text: "x".into() },
    };
    assert_eq!(e.kind(), "content_block_delta");
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})
    );
    assert_eq!(
        serde_json::to_value(StreamEvent::MessageStop).unwrap(),
        json!({"type": "message_stop"})
    );
    let d = StreamEvent::MessageDelta {
        delta: MessageDelta {
            stop_reason: Some(StopReason::MaxTokens),
            stop_sequence: None,
        },
        usage: DeltaUsage::default(),
    };
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["delta"]["stop_reason"], "max_tokens");
    assert!(v["delta"]["stop_sequence"].is_null());
}
