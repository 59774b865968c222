//! Response ids for the compatibility APIs (`chatcmpl-…`, `resp_…`,
//! `msg_…`): unique within a run and unlikely to repeat across runs, which
//! clients that key caches or logs on ids rely on.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// `prefix` followed by 24 lowercase hex digits.
pub fn new(prefix: &str) -> String {
    format!("{prefix}{:016x}{:08x}", mix(0), mix(1) as u32)
}

/// A counter hashed with a per-process random key: distinct values within
/// the process, unpredictable across processes.
fn mix(lane: u64) -> u64 {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut h = KEYS.get_or_init(RandomState::new).build_hasher();
    h.write_u64(n);
    h.write_u64(nanos);
    h.write_u64(lane);
    h.finish()
}

/// Now, in Unix seconds (the `created` fields).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_prefix_and_differ() {
        let a = new("chatcmpl-");
        let b = new("chatcmpl-");
        assert!(a.starts_with("chatcmpl-") && a.len() == "chatcmpl-".len() + 24);
        assert_ne!(a, b);
    }
}
