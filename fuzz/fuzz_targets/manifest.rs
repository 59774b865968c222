//! Fuzzes the manifest parser with arbitrary bytes (a manifest comes from
//! disk or, later, from a registry): parsing never panics, and a manifest
//! that parses encodes and parses back to itself.

#![no_main]

use hearth_store::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = Manifest::from_slice(data) else {
        return;
    };
    let _ = manifest.digests();
    let _ = manifest.total_size();
    let bytes = manifest.to_bytes().expect("a parsed manifest encodes");
    let again = Manifest::from_slice(&bytes).expect("an encoded manifest parses");
    assert_eq!(manifest, again);
});
