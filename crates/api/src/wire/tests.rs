//! Shape tests: key presence, omission and order as Ollama produces them,
//! and lenient decoding of requests.

use serde_json::{json, Value};

use super::*;

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

#[test]
fn generate_chunk_omits_unset_fields() {
    let chunk = GenerateResponse {
        model: "llama3.2".into(),
        created_at: "2023-08-04T08:52:19.385406455Z".into(),
        response: "The".into(),
        ..Default::default()
    };
    assert_eq!(
        to_json(&chunk),
        r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455Z","response":"The","done":false}"#
    );
}

#[test]
fn generate_final_chunk_has_ollama_key_order() {
    let chunk = GenerateResponse {
        model: "m".into(),
        created_at: "t".into(),
        done: true,
        done_reason: "stop".into(),
        context: vec![1, 2, 3],
        metrics: Metrics {
            total_duration: 10,
            load_duration: 6,
            prompt_eval_count: 26,
            prompt_eval_duration: 13,
            eval_count: 259,
            eval_duration: 42,
        },
        ..Default::default()
    };
    assert_eq!(
        to_json(&chunk),
        concat!(
            r#"{"model":"m","created_at":"t","response":"","done":true,"done_reason":"stop","#,
            r#""context":[1,2,3],"total_duration":10,"load_duration":6,"prompt_eval_count":26,"#,
            r#""prompt_eval_duration":13,"eval_count":259,"eval_duration":42}"#
        )
    );
}

#[test]
fn generate_response_round_trips_through_flatten() {
    let text =
        r#"{"model":"m","created_at":"t","response":"x","done":true,"eval_count":3,"unknown":1}"#;
    let parsed: GenerateResponse = serde_json::from_str(text).unwrap();
    assert_eq!(parsed.metrics.eval_count, 3);
    assert_eq!(parsed.response, "x");
}

#[test]
fn chat_chunk_always_has_role_and_content() {
    let chunk = ChatResponse {
        model: "m".into(),
        created_at: "t".into(),
        message: Message::assistant(""),
        done: true,
        done_reason: "load".into(),
        ..Default::default()
    };
    assert_eq!(
        to_json(&chunk),
        r#"{"model":"m","created_at":"t","message":{"role":"assistant","content":""},"done":true,"done_reason":"load"}"#
    );
}

#[test]
fn tool_call_keeps_argument_order_and_index() {
    let text = r#"{"role":"assistant","content":"","tool_calls":[{"id":"call_k3j2h1g0","function":{"index":0,"name":"f","arguments":{"zeta":1,"alpha":{"y":2,"b":3}}}}]}"#;
    let message: Message = serde_json::from_str(text).unwrap();
    assert_eq!(to_json(&message), text);
    let bare = ToolCall::default();
    assert_eq!(
        to_json(&bare),
        r#"{"function":{"index":0,"name":"","arguments":{}}}"#
    );
}

#[test]
fn tool_keeps_schema_as_given() {
    let text = r#"{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"},"a":{"type":"string"}},"required":["city"]}}}"#;
    let tool: Tool = serde_json::from_str(text).unwrap();
    assert_eq!(tool.kind, "function");
    assert_eq!(to_json(&tool), text);
}

#[test]
fn message_roles_are_lowercased_and_nulls_tolerated() {
    let m: Message =
        serde_json::from_str(r#"{"role":"User","content":null,"images":null,"x":1}"#).unwrap();
    assert_eq!(m.role, "user");
    assert_eq!(m.content, "");
    assert_eq!(
        to_json(&Message::new("tool", "42")),
        r#"{"role":"tool","content":"42"}"#
    );
}

#[test]
fn requests_ignore_unknown_fields_and_nulls() {
    let req: GenerateRequest = serde_json::from_str(
        r#"{"model":"m","prompt":null,"stream":null,"options":null,"keep_alive":null,
            "format":null,"think":null,"images":null,"raw":null,"what":[1]}"#,
    )
    .unwrap();
    assert_eq!(req.model, "m");
    assert!(req.is_streaming());
    assert!(req.keep_alive.is_none() && req.format.is_none() && req.think.is_none());
    let chat: ChatRequest =
        serde_json::from_str(r#"{"model":"m","messages":null,"tools":null}"#).unwrap();
    assert!(chat.messages.is_empty());
    let empty: ChatRequest = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, ChatRequest::default());
}

#[test]
fn request_dynamic_fields_are_validated_on_demand() {
    let req: ChatRequest = serde_json::from_str(
        r#"{"model":"m","keep_alive":"10","think":"max","format":{"type":"object"},"stream":false}"#,
    )
    .unwrap();
    assert!(!req.is_streaming());
    assert_eq!(
        req.parse_keep_alive().unwrap_err().message,
        r#"time: missing unit in duration "10""#
    );
    assert!(req.parse_think().unwrap().unwrap().enabled());
    assert!(matches!(
        req.parse_format().unwrap(),
        Some(crate::OutputFormat::Schema(_))
    ));
}

#[test]
fn show_response_always_has_model_info_details_and_modified_at() {
    let json: Value = serde_json::to_value(ShowResponse::default()).unwrap();
    assert_eq!(
        json,
        json!({
            "details": {"parent_model":"","format":"","family":"","families":[],
                        "parameter_size":"","quantization_level":""},
            "model_info": {},
            "modified_at": ""
        })
    );
}

#[test]
fn list_and_ps_shapes() {
    assert_eq!(to_json(&ListResponse::default()), r#"{"models":[]}"#);
    let model = ProcessModel {
        name: "m:latest".into(),
        ..Default::default()
    };
    let json = serde_json::to_value(&model).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "model",
            "size",
            "digest",
            "details",
            "expires_at",
            "size_vram",
            "context_length"
        ]
    );
    let listed = ListModel {
        capabilities: vec!["completion".into()],
        ..Default::default()
    };
    let json = serde_json::to_value(&listed).unwrap();
    assert_eq!(json["capabilities"], json!(["completion"]));
    assert!(json.get("remote_model").is_none());
}

#[test]
fn deprecated_name_fields_fall_back() {
    let show: ShowRequest = serde_json::from_str(r#"{"name":"old"}"#).unwrap();
    assert_eq!(show.model_name(), "old");
    let delete: DeleteRequest = serde_json::from_str(r#"{"model":"new","name":"old"}"#).unwrap();
    assert_eq!(delete.model_name(), "new");
    let create: CreateRequest =
        serde_json::from_str(r#"{"name":"n","quantization":"q4_K_M"}"#).unwrap();
    assert_eq!(
        (create.model_name(), create.quantize_type()),
        ("n", "q4_K_M")
    );
}

#[test]
fn create_license_is_string_or_array() {
    let one: CreateRequest = serde_json::from_str(r#"{"license":"MIT"}"#).unwrap();
    assert_eq!(one.licenses(), vec!["MIT".to_string()]);
    let many: CreateRequest = serde_json::from_str(r#"{"license":["A","B"]}"#).unwrap();
    assert_eq!(many.licenses().len(), 2);
    let none: CreateRequest = serde_json::from_str(r#"{"license":""}"#).unwrap();
    assert!(none.licenses().is_empty());
    let req = CreateRequest {
        model: "m".into(),
        from: "base".into(),
        files: [
            ("b.gguf".to_string(), "sha256:2".to_string()),
            ("a.gguf".into(), "sha256:1".into()),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    assert_eq!(
        to_json(&req),
        r#"{"model":"m","from":"base","files":{"a.gguf":"sha256:1","b.gguf":"sha256:2"},"name":""}"#
    );
}

#[test]
fn progress_omits_zero_counts() {
    assert_eq!(
        to_json(&ProgressResponse::status("success")),
        r#"{"status":"success"}"#
    );
    let p = ProgressResponse {
        status: "pulling abc".into(),
        digest: "sha256:abc".into(),
        total: 10,
        completed: 0,
    };
    assert_eq!(
        to_json(&p),
        r#"{"status":"pulling abc","digest":"sha256:abc","total":10}"#
    );
}

#[test]
fn embed_inputs() {
    let req = |input: Value| EmbedRequest {
        input: Some(input),
        ..Default::default()
    };
    assert_eq!(req(json!("hi")).inputs().unwrap(), vec!["hi".to_string()]);
    assert!(req(json!("")).inputs().unwrap().is_empty());
    assert!(req(json!([])).inputs().unwrap().is_empty());
    assert!(EmbedRequest::default().inputs().unwrap().is_empty());
    assert_eq!(req(json!(["a", "b"])).inputs().unwrap().len(), 2);
    assert_eq!(
        req(json!(5)).inputs().unwrap_err().message,
        "invalid input type"
    );
    assert_eq!(req(json!(["a", 1])).inputs().unwrap_err().status, Some(400));
    assert_eq!(
        to_json(&EmbedResponse {
            model: "m".into(),
            ..Default::default()
        }),
        r#"{"model":"m","embeddings":[]}"#
    );
}

#[test]
fn small_bodies() {
    assert_eq!(
        to_json(&VersionResponse {
            version: "0.32.15".into()
        }),
        r#"{"version":"0.32.15"}"#
    );
    assert_eq!(
        to_json(&crate::ApiError::not_found("model 'x' not found").to_response()),
        r#"{"error":"model 'x' not found"}"#
    );
    assert_eq!(
        to_json(&EmbeddingResponse::default()),
        r#"{"embedding":[]}"#
    );
}
