//! Content digests: the `sha256:<hex>` identifiers of blobs, their parsing
//! (`sha256:` or `sha256-`, any hex case), display forms and hashing helpers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::error::{Result, StoreError};

/// Number of hex characters in a SHA-256 digest.
const HEX_LEN: usize = 64;

/// A SHA-256 digest, always held as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<hex>` or `sha256-<hex>` (hex of either case), the
    /// forms accepted by Ollama's `^sha256[:-][0-9a-fA-F]{64}$`.
    pub fn parse(s: &str) -> Result<Digest> {
        let hex = s
            .strip_prefix("sha256:")
            .or_else(|| s.strip_prefix("sha256-"))
            .ok_or(StoreError::InvalidDigest)?;
        Digest::from_hex(hex)
    }

    /// Accepts a bare 64-character hex string (any case).
    pub fn from_hex(hex: &str) -> Result<Digest> {
        if hex.len() != HEX_LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::InvalidDigest);
        }
        Ok(Digest {
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// Digest of an in-memory byte string.
    pub fn of_bytes(bytes: &[u8]) -> Digest {
        Digest::from_hasher(Sha256::new_with_prefix(bytes))
    }

    /// Finalises a running hasher into a digest.
    pub(crate) fn from_hasher(hasher: Sha256) -> Digest {
        Digest {
            hex: hex::encode(hasher.finalize()),
        }
    }

    /// The 64 lower-case hex characters.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex characters, as Ollama shows in progress lines.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }

    /// The blob's file name in `blobs/`: `sha256-<hex>`.
    pub fn file_name(&self) -> String {
        format!("sha256-{}", self.hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl FromStr for Digest {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Digest> {
        Digest::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(deserializer)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn of_bytes_matches_known_vector() {
        let d = Digest::of_bytes(b"");
        assert_eq!(d.hex(), EMPTY);
        assert_eq!(d.to_string(), format!("sha256:{EMPTY}"));
        assert_eq!(d.file_name(), format!("sha256-{EMPTY}"));
        assert_eq!(d.short(), "e3b0c44298fc");
    }

    #[test]
    fn parse_accepts_both_separators_and_cases() {
        let upper = EMPTY.to_ascii_uppercase();
        for s in [
            format!("sha256:{EMPTY}"),
            format!("sha256-{EMPTY}"),
            format!("sha256:{upper}"),
            format!("sha256-{upper}"),
        ] {
            assert_eq!(Digest::parse(&s).unwrap().hex(), EMPTY, "{s}");
        }
    }

    #[test]
    fn parse_rejects_bad_forms() {
        for s in [
            String::new(),
            EMPTY.to_string(),
            format!("sha256:{}", &EMPTY[..63]),
            format!("sha256:{EMPTY}0"),
            format!("sha256_{EMPTY}"),
            format!("SHA256:{EMPTY}"),
            format!("sha512:{EMPTY}"),
            format!(" sha256:{EMPTY}"),
            format!("sha256:{}g", &EMPTY[..63]),
            "sha256:../../etc/passwd".to_string(),
            format!("sha256:{}é", &EMPTY[..62]),
        ] {
            let err = Digest::parse(&s).expect_err(&s);
            assert_eq!(err.to_string(), "invalid digest format");
        }
    }

    #[test]
    fn serde_round_trip() {
        let d = Digest::of_bytes(b"x");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"sha256:{}\"", d.hex()));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("\"nope\"").is_err());
    }
}
