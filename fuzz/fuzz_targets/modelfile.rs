//! Fuzzes the Modelfile parser (`hearth create`'s input) with arbitrary
//! bytes, including invalid UTF-8 and UTF-16 byte-order marks: it returns a
//! Modelfile or an error, and a parsed one always becomes a create request.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = hearth_modelfile::parse_bytes(data) else {
        return;
    };
    let request = file.to_create_request("fuzz");
    serde_json::to_vec(&request).expect("a create request encodes");
});
