//! Fuzzes the model-name parser: any string either fails with
//! `invalid model name` or yields a name whose manifest path stays inside
//! the store (no `..`, no absolute part) — the class of CVE-2024-37032.

#![no_main]

use std::path::Component;

use hearth_store::Name;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(name) = Name::parse(text) else {
        return;
    };
    let path = name.manifest_rel_path();
    assert!(
        path.components().all(|c| matches!(c, Component::Normal(_))),
        "{text:?} escapes the store: {path:?}"
    );
    // The parts of a valid name are valid on their own, as when the store
    // rebuilds names from directory names.
    let [host, namespace, model, tag] = name.parts();
    assert!(Name::from_parts(host, namespace, model, tag).is_ok());
    let _ = name.display_shortest();
});
