//! Tests of the GGUF reader against fixtures from the test writer, hostile
//! inputs, and (when present locally) a real model file.

use std::io::Cursor;

use serde_json::json;

use super::test_writer::{put_str, put_u32, put_u64, GgufBuilder};
use super::*;

fn s(v: &str) -> GgufValue {
    GgufValue::String(v.to_string())
}

/// A small llama-like model: two Q4_K matrices, one F32 vector.
fn llama_fixture() -> GgufBuilder {
    GgufBuilder::new()
        .kv("general.architecture", s("llama"))
        .kv("general.name", s("Tiny"))
        .kv("general.file_type", GgufValue::U32(15))
        .kv("llama.context_length", GgufValue::U32(4096))
        .kv("llama.embedding_length", GgufValue::U32(256))
        .kv("llama.rope.freq_base", GgufValue::F32(10000.0))
        .kv("tokenizer.chat_template", s("{{ messages }}"))
        .kv(
            "tokenizer.ggml.tokens",
            GgufValue::Array(GgufArray::String(
                (0..10).map(|i| format!("tok{i}")).collect(),
            )),
        )
        .kv(
            "tokenizer.ggml.bos_token_ids",
            GgufValue::Array(GgufArray::I32(vec![1, 2])),
        )
        .tensor("token_embd.weight", 12, &[256, 10])
        .tensor("blk.0.attn_q.weight", 12, &[256, 256])
        .tensor("output_norm.weight", 0, &[256])
}

fn parse(bytes: &[u8]) -> Result<GgufInfo> {
    GgufInfo::from_reader(Cursor::new(bytes), bytes.len() as u64)
}

fn err_text(bytes: &[u8]) -> String {
    match parse(bytes).and_then(|i| i.validate().map(|_| i)) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reads_valid_fixture() {
    let bytes = llama_fixture().build();
    let info = parse(&bytes).unwrap();
    info.validate().unwrap();
    assert_eq!(info.version(), 3);
    assert_eq!(info.architecture(), Some("llama"));
    assert_eq!(info.context_length(), Some(4096));
    assert_eq!(info.embedding_length(), Some(256));
    assert_eq!(info.chat_template(), Some("{{ messages }}"));
    assert_eq!(info.file_type_name(), "Q4_K_M");
    assert_eq!(info.parameter_count(), 256 * 10 + 256 * 256 + 256);
    assert_eq!(info.parameter_size_string(), "68K");
    assert!(!info.has_pooling());
    assert_eq!(info.capabilities(), ["completion"]);
    assert_eq!(info.data_offset() % 32, 0);
    let t = &info.tensors()[1];
    assert_eq!(t.name, "blk.0.attn_q.weight");
    assert_eq!(t.type_name(), "Q4_K");
    assert_eq!(t.shape, [256, 256]);
    assert_eq!(t.byte_size().unwrap(), 256 * 256 / 256 * 144);
}

#[test]
fn model_info_filters_and_truncates() {
    let info = parse(&llama_fixture().build()).unwrap();
    let mi = info.model_info(false);
    assert!(!mi.contains_key("general.name"));
    assert!(!mi.contains_key("tokenizer.chat_template"));
    assert_eq!(mi["general.architecture"], "llama");
    assert_eq!(mi["llama.rope.freq_base"], json!(10000.0));
    assert_eq!(mi["tokenizer.ggml.tokens"], json!([]));
    assert_eq!(mi["tokenizer.ggml.bos_token_ids"], json!([1, 2]));
    assert_eq!(mi["general.parameter_count"], json!(info.parameter_count()));
    let keys: Vec<_> = mi.keys().cloned().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let verbose = info.model_info(true);
    assert_eq!(
        verbose["tokenizer.ggml.tokens"].as_array().unwrap().len(),
        10
    );
}

#[test]
fn embedding_and_multimodal_capabilities() {
    let bytes = GgufBuilder::new()
        .kv("general.architecture", s("bert"))
        .kv("bert.pooling_type", GgufValue::U32(1))
        .kv("bert.vision.block_count", GgufValue::U32(2))
        .build();
    let info = parse(&bytes).unwrap();
    assert!(info.has_pooling());
    assert_eq!(info.capabilities(), ["embedding", "vision"]);
}

#[test]
fn v2_files_and_alignment_key() {
    let mut b = llama_fixture().kv("general.alignment", GgufValue::U32(64));
    b.version = 2;
    b.alignment = 64;
    let info = parse(&b.build()).unwrap();
    info.validate().unwrap();
    assert_eq!(info.alignment(), 64);
    assert_eq!(info.data_offset() % 64, 0);
}

#[test]
fn bad_alignment_is_rejected() {
    for bad in [GgufValue::U32(0), GgufValue::U32(24), s("x")] {
        let bytes = GgufBuilder::new().kv("general.alignment", bad).build();
        assert!(err_text(&bytes).contains("alignment"));
    }
}

#[test]
fn bad_magic_is_not_gguf() {
    let mut b = llama_fixture();
    b.magic = *b"GGML";
    assert_eq!(err_text(&b.build()), "supplied file was not in GGUF format");
    assert_eq!(err_text(b""), "supplied file was not in GGUF format");
    assert_eq!(err_text(b"GG"), "supplied file was not in GGUF format");
    assert_eq!(
        err_text(b"<html>not a model</html>"),
        "supplied file was not in GGUF format"
    );
}

#[test]
fn unsupported_versions() {
    for v in [0, 1, 4, 0x0300_0000] {
        let mut b = GgufBuilder::new();
        b.version = v;
        assert!(
            err_text(&b.build()).contains("unsupported GGUF version"),
            "{v}"
        );
    }
}

#[test]
fn truncated_tensor_data() {
    let bytes = llama_fixture().build();
    let info = parse(&bytes).unwrap();
    let cut = &bytes[..bytes.len() - 100];
    let e = err_text(cut);
    assert!(e.starts_with("GGUF file is truncated:"), "{e}");
    // Header alone (all data missing) also reads, but fails validation.
    let header_only = &bytes[..info.data_offset() as usize];
    assert!(parse(header_only).is_ok());
    assert!(err_text(header_only).starts_with("GGUF file is truncated:"));
}

#[test]
fn truncated_header_at_every_byte() {
    let header = llama_fixture().header();
    for len in 4..header.len() {
        let e = err_text(&header[..len]);
        assert!(e.starts_with("GGUF file is truncated:"), "len {len}: {e}");
    }
}

#[test]
fn huge_declared_lengths_error_without_allocating() {
    // Metadata key with a 2^62-byte length.
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, 0);
    put_u64(&mut bytes, 1);
    put_u64(&mut bytes, 1 << 62);
    assert!(err_text(&bytes).contains("exceeds the limit"));

    // String value just over the cap.
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, 0);
    put_u64(&mut bytes, 1);
    put_str(&mut bytes, "k");
    put_u32(&mut bytes, 8);
    put_u64(&mut bytes, reader::MAX_STRING + 1);
    assert!(err_text(&bytes).contains("exceeds the limit"));

    // Array with an absurd element count.
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, 0);
    put_u64(&mut bytes, 1);
    put_str(&mut bytes, "k");
    put_u32(&mut bytes, 9);
    put_u32(&mut bytes, 10);
    put_u64(&mut bytes, u64::MAX);
    assert!(err_text(&bytes).contains("more than the limit"));

    // Array within the count limit but over the memory budget.
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, 0);
    put_u64(&mut bytes, 1);
    put_str(&mut bytes, "k");
    put_u32(&mut bytes, 9);
    put_u32(&mut bytes, 8);
    put_u64(&mut bytes, reader::MAX_ARRAY);
    assert!(err_text(&bytes).contains("memory"));

    // Billions of declared KV pairs / tensors with no data: truncation.
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, u64::MAX);
    put_u64(&mut bytes, u64::MAX);
    assert!(err_text(&bytes).starts_with("GGUF file is truncated"));
}

#[test]
fn invalid_value_types() {
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, 0);
    put_u64(&mut bytes, 1);
    put_str(&mut bytes, "k");
    put_u32(&mut bytes, 13);
    assert!(err_text(&bytes).contains("invalid GGUF value type 13"));

    // Nested arrays are not supported by ggml either.
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, 0);
    put_u64(&mut bytes, 1);
    put_str(&mut bytes, "k");
    put_u32(&mut bytes, 9);
    put_u32(&mut bytes, 9);
    put_u64(&mut bytes, 1);
    assert!(err_text(&bytes).contains("invalid GGUF array element type 9"));
}

#[test]
fn bad_tensors() {
    let too_many_dims = GgufBuilder::new().tensor("t", 0, &[1, 1, 1, 1, 1]).header();
    assert!(err_text(&too_many_dims).contains("dimensions"));

    // Patch the type id of a valid file to a removed ggml type (Q4_2);
    // the id is the u32 before the final u64 offset of the header.
    let b = GgufBuilder::new().tensor("t", 0, &[32]);
    let mut bytes = b.build();
    let header_len = b.header().len();
    bytes[header_len - 12..header_len - 8].copy_from_slice(&4u32.to_le_bytes());
    assert!(err_text(&bytes).contains("unknown ggml type 4"));

    let ragged = GgufBuilder::new().tensor("t", 2, &[33]);
    let mut bytes = ragged.header();
    bytes.resize(bytes.len() + 4096, 0);
    assert!(err_text(&bytes).contains("not a multiple"));

    let dup = GgufBuilder::new()
        .tensor("t", 0, &[8])
        .tensor("t", 0, &[8])
        .build();
    assert!(err_text(&dup).contains("duplicate tensor name"));

    let overflow = GgufBuilder::new().tensor("a", 0, &[u64::MAX, 2]).header();
    assert!(err_text(&overflow).contains("overflows"));
}

#[test]
fn misaligned_offset_is_rejected() {
    let b = GgufBuilder::new().tensor("t", 0, &[8]);
    let mut bytes = b.build();
    let header_len = b.header().len();
    bytes[header_len - 8..header_len].copy_from_slice(&4u64.to_le_bytes());
    assert!(err_text(&bytes).contains("not a multiple of the alignment"));
}

#[test]
fn garbage_after_magic_never_panics() {
    // Deterministic pseudo-random garbage of many lengths.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in 0..2000usize {
        let mut bytes = b"GGUF\x03\0\0\0".to_vec();
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(state as u8);
        }
        let _ = parse(&bytes).and_then(|i| i.validate());
    }
}

#[test]
fn invalid_utf8_strings_are_replaced() {
    let mut bytes = b"GGUF".to_vec();
    put_u32(&mut bytes, 3);
    put_u64(&mut bytes, 0);
    put_u64(&mut bytes, 1);
    put_str(&mut bytes, "k");
    put_u32(&mut bytes, 8);
    put_u64(&mut bytes, 2);
    bytes.extend_from_slice(&[0xff, b'a']);
    let info = parse(&bytes).unwrap();
    assert_eq!(info.string("k"), Some("\u{fffd}a"));
}

#[test]
fn read_from_path_and_sniff() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    std::fs::write(&path, llama_fixture().build()).unwrap();
    let info = GgufInfo::read_validated(&path).unwrap();
    assert_eq!(info.file_size(), std::fs::metadata(&path).unwrap().len());
    assert!(is_gguf(&path).unwrap());
    let other = dir.path().join("x");
    std::fs::write(&other, b"GG").unwrap();
    assert!(!is_gguf(&other).unwrap());
    assert!(GgufInfo::read(dir.path().join("missing")).is_err());
}

/// Reads a real model if one has been downloaded locally; skipped otherwise.
#[test]
fn real_gemma3_270m_if_present() {
    let Some(home) = std::env::var_os("HOME") else {
        return;
    };
    let mut candidates = vec![std::path::PathBuf::from(
        "/root/.cache/hearth/gemma-3-270m-q4_k_m.gguf",
    )];
    candidates.push(std::path::PathBuf::from(home).join(".cache/hearth/gemma-3-270m-q4_k_m.gguf"));
    let Some(path) = candidates.into_iter().find(|p| p.is_file()) else {
        return;
    };
    let info = GgufInfo::read_validated(&path).unwrap();
    assert_eq!(info.architecture(), Some("gemma3"));
    assert_eq!(info.parameter_count(), 268_098_176);
    assert_eq!(info.parameter_size_string(), "268.10M");
    assert_eq!(info.file_type_name(), "Q4_K_M");
    assert_eq!(info.chat_template(), None);
    assert_eq!(info.capabilities(), ["completion"]);
    assert!(info.context_length().unwrap_or(0) > 0);
}
