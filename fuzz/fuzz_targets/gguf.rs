//! Fuzzes the GGUF header reader on arbitrary bytes, as if they were a
//! whole uploaded file: reading, validating and describing a header never
//! panics, overflows or allocates without bound, whatever the counts and
//! lengths in it claim.

#![no_main]

use hearth_store::GgufInfo;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = GgufInfo::from_reader(data, data.len() as u64) else {
        return;
    };
    let _ = info.validate();
    // What `show` and `create` derive from a header.
    let _ = info.model_info(true);
    let _ = info.capabilities();
    let _ = info.parameter_size_string();
    let _ = info.file_type_name();
    let _ = info.context_length();
    let _ = info.embedding_length();
    let _ = info.chat_template();
    let _ = info.token_text(0);
    for tensor in info.tensors() {
        let _ = tensor.byte_size();
        let _ = tensor.type_name();
    }
});
