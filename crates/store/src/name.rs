//! Model names: Ollama's `[[scheme://]host/][namespace/]model[:tag]` grammar,
//! validation, display forms, case-insensitive comparison and the relative
//! manifest path a name maps to.
//!
//! Validation happens in [`Name::parse`] and [`Name::from_parts`]; a `Name`
//! obtained from either is always safe to turn into a path (no separators,
//! no `.`/`..`, no empty parts). Because the fields are public, the store
//! re-checks [`Name::validate`] before it builds any path.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{Result, StoreError};

/// Host used when a name has none.
pub const DEFAULT_HOST: &str = "registry.ollama.ai";
/// Namespace used when a name has none.
pub const DEFAULT_NAMESPACE: &str = "library";
/// Tag used when a name has none.
pub const DEFAULT_TAG: &str = "latest";
/// Protocol scheme used when a name has none.
pub const DEFAULT_SCHEME: &str = "https";

/// Marker Ollama puts in a part that a separator promised but left empty
/// (`model:` or `/model`). It contains `!`, so it never validates.
const MISSING_PART: &str = "!MISSING!";

/// A fully-qualified model name.
///
/// Equality and hashing are exact (case-sensitive) over host, namespace,
/// model and tag; the scheme is not part of a model's identity. Use
/// [`Name::eq_fold`] for Ollama's case-insensitive comparison.
#[derive(Debug, Clone)]
pub struct Name {
    pub host: String,
    pub namespace: String,
    pub model: String,
    pub tag: String,
    /// `scheme://` prefix of the host, if the input had one.
    scheme: Option<String>,
}

/// Which part of a name a string is, for the per-part validity rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Host,
    Namespace,
    Model,
    Tag,
}

impl Part {
    fn max_len(self) -> usize {
        match self {
            Part::Host => 350,
            _ => 80,
        }
    }

    /// Characters allowed after the first one (which must be `[A-Za-z0-9_]`).
    fn allows(self, c: u8) -> bool {
        match c {
            b'_' | b'-' => true,
            b'.' => self != Part::Namespace,
            b':' => self == Part::Host,
            _ => c.is_ascii_alphanumeric(),
        }
    }

    fn is_valid(self, s: &str) -> bool {
        let bytes = s.as_bytes();
        let Some((&first, rest)) = bytes.split_first() else {
            return false;
        };
        bytes.len() <= self.max_len()
            && (first.is_ascii_alphanumeric() || first == b'_')
            && rest.iter().all(|&c| self.allows(c))
    }
}

/// Splits at the last `sep`; empty sides become [`MISSING_PART`] so that a
/// promised-but-empty part fails validation instead of being defaulted.
fn cut_last<'a>(s: &'a str, sep: char) -> Option<(&'a str, &'a str)> {
    let i = s.rfind(sep)?;
    let (before, after) = (&s[..i], &s[i + sep.len_utf8()..]);
    let or_missing = |p: &'a str| if p.is_empty() { MISSING_PART } else { p };
    Some((or_missing(before), or_missing(after)))
}

/// The raw parts of a name before defaults are applied.
#[derive(Default)]
struct Bare<'a> {
    scheme: Option<&'a str>,
    host: Option<&'a str>,
    namespace: Option<&'a str>,
    model: &'a str,
    tag: Option<&'a str>,
}

/// Right-to-left parse, mirroring Ollama's `ParseNameBare`.
fn parse_bare(mut s: &str) -> Bare<'_> {
    let mut bare = Bare::default();
    // A ':' after the last '/' can only start a tag ('/' is illegal in tags),
    // while a ':' before it belongs to a host port or a scheme.
    if s.rfind(':') > s.rfind('/') {
        if let Some((rest, tag)) = cut_last(s, ':') {
            s = rest;
            bare.tag = Some(tag);
        }
    }
    let Some((rest, model)) = cut_last(s, '/') else {
        bare.model = s;
        return bare;
    };
    bare.model = model;
    let Some((rest, namespace)) = cut_last(rest, '/') else {
        bare.namespace = Some(rest);
        return bare;
    };
    bare.namespace = Some(namespace);
    match rest.split_once("://") {
        Some((scheme, host)) => {
            bare.scheme = Some(scheme);
            bare.host = Some(host);
        }
        None => bare.host = Some(rest),
    }
    bare
}

impl Name {
    /// Parses a model reference, applying Ollama's defaults, and validates it.
    ///
    /// Leading/trailing whitespace is ignored. Any invalid input yields
    /// [`StoreError::InvalidName`] (`invalid model name`).
    pub fn parse(s: &str) -> Result<Name> {
        let bare = parse_bare(s.trim());
        let name = Name {
            host: bare.host.unwrap_or(DEFAULT_HOST).to_string(),
            namespace: bare.namespace.unwrap_or(DEFAULT_NAMESPACE).to_string(),
            model: bare.model.to_string(),
            tag: bare.tag.unwrap_or(DEFAULT_TAG).to_string(),
            scheme: bare.scheme.filter(|s| !s.is_empty()).map(str::to_string),
        };
        name.validate()?;
        Ok(name)
    }

    /// Builds a name from its four parts (e.g. directory names found on
    /// disk), validating each one.
    pub fn from_parts(host: &str, namespace: &str, model: &str, tag: &str) -> Result<Name> {
        let name = Name {
            host: host.to_string(),
            namespace: namespace.to_string(),
            model: model.to_string(),
            tag: tag.to_string(),
            scheme: None,
        };
        name.validate()?;
        Ok(name)
    }

    /// Checks every part against Ollama's validity rules.
    pub fn validate(&self) -> Result<()> {
        let ok = Part::Host.is_valid(&self.host)
            && Part::Namespace.is_valid(&self.namespace)
            && Part::Model.is_valid(&self.model)
            && Part::Tag.is_valid(&self.tag);
        if ok {
            Ok(())
        } else {
            Err(StoreError::InvalidName)
        }
    }

    /// Whether every part is valid (see [`Name::validate`]).
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    /// The protocol scheme to reach the host with (`https` unless the input
    /// said otherwise, e.g. `http://localhost:5000/ns/m`).
    pub fn scheme(&self) -> &str {
        self.scheme.as_deref().unwrap_or(DEFAULT_SCHEME)
    }

    /// Whether the input carried an explicit `scheme://` prefix.
    pub fn has_explicit_scheme(&self) -> bool {
        self.scheme.is_some()
    }

    /// The shortest unambiguous form: `llama3.2:latest`, `alice/mario:latest`,
    /// `example.com/ns/m:latest`. The tag is always included.
    pub fn display_shortest(&self) -> String {
        if !self.host.eq_ignore_ascii_case(DEFAULT_HOST) {
            format!(
                "{}/{}/{}:{}",
                self.host, self.namespace, self.model, self.tag
            )
        } else if !self.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE) {
            format!("{}/{}:{}", self.namespace, self.model, self.tag)
        } else {
            format!("{}:{}", self.model, self.tag)
        }
    }

    /// `namespace/model`, the repository path used by the registry protocol.
    pub fn display_namespace_model(&self) -> String {
        format!("{}/{}", self.namespace, self.model)
    }

    /// Case-insensitive comparison of all four parts (Ollama's `EqualFold`).
    pub fn eq_fold(&self, other: &Name) -> bool {
        self.parts()
            .iter()
            .zip(other.parts())
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// The four parts in path order.
    pub fn parts(&self) -> [&str; 4] {
        [&self.host, &self.namespace, &self.model, &self.tag]
    }

    /// `host/namespace/model/tag`, relative to `manifests/`. The host keeps
    /// its `:port`. Only meaningful for a valid name; the store validates
    /// before calling this.
    pub fn manifest_rel_path(&self) -> PathBuf {
        self.parts().iter().collect()
    }
}

impl fmt::Display for Name {
    /// Fully qualified: `registry.ollama.ai/library/llama3.2:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}:{}",
            self.host, self.namespace, self.model, self.tag
        )
    }
}

impl FromStr for Name {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Name> {
        Name::parse(s)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        Name::parse(s).unwrap().to_string()
    }

    #[test]
    fn defaults_are_applied() {
        assert_eq!(
            full("llama3.2"),
            "registry.ollama.ai/library/llama3.2:latest"
        );
        assert_eq!(full("alice/mario"), "registry.ollama.ai/alice/mario:latest");
        assert_eq!(
            full("llama3.2:1b"),
            "registry.ollama.ai/library/llama3.2:1b"
        );
        assert_eq!(full("localhost:5000/ns/m:q4"), "localhost:5000/ns/m:q4");
        assert_eq!(full("example.com/ns/m"), "example.com/ns/m:latest");
    }

    #[test]
    fn whitespace_is_trimmed() {
        assert_eq!(
            full("  llama3.2:1b \n"),
            "registry.ollama.ai/library/llama3.2:1b"
        );
    }

    #[test]
    fn scheme_is_stripped_and_remembered() {
        let n = Name::parse("http://localhost:5000/ns/m:t").unwrap();
        assert_eq!(n.host, "localhost:5000");
        assert_eq!(n.scheme(), "http");
        assert!(n.has_explicit_scheme());
        let d = Name::parse("ns/m").unwrap();
        assert_eq!(d.scheme(), "https");
        assert!(!d.has_explicit_scheme());
        // The scheme is not identity.
        assert_eq!(n, Name::parse("localhost:5000/ns/m:t").unwrap());
    }

    #[test]
    fn port_without_tag_is_not_a_tag() {
        let n = Name::parse("localhost:5000/ns/m").unwrap();
        assert_eq!(n.host, "localhost:5000");
        assert_eq!(n.tag, "latest");
    }

    #[test]
    fn valid_edge_cases() {
        for s in [
            "_model",
            "m-o_d.e.l",
            "a",
            "ns_1/m:tag.v-1_x",
            "_ns/_m:_t",
            "h/n/m:t",
            "MiXeD/CaSe:TaG",
            &"m".repeat(80),
            &format!("n/m:{}", "t".repeat(80)),
            &format!("{}/n/m", "h".repeat(350)),
            &format!("{}/m", "n".repeat(80)),
        ] {
            assert!(Name::parse(s).is_ok(), "{s:?} should be valid");
        }
    }

    #[test]
    fn invalid_cases() {
        for s in [
            "",
            "   ",
            "../../etc/passwd",
            "..",
            ".",
            "a/b/c/d/e",
            "a//b",
            "/model",
            "model:",
            ":tag",
            "ns/",
            "host//m",
            "-model",
            ".model",
            "mo del",
            "mo\\del",
            "ns.dot/m",
            "m:ta:g/x",
            "m@sha256:abc",
            "m:t/a",
            "h/n/m:-t",
            "mödel",
            "m\0",
            "h/ns/..",
            "h/../m",
            "../m",
            "h/ns/m:..",
            &"m".repeat(81),
            &format!("n/m:{}", "t".repeat(81)),
            &format!("{}/n/m", "h".repeat(351)),
            &format!("{}/m", "n".repeat(81)),
        ] {
            let err = Name::parse(s).expect_err(s);
            assert_eq!(err.to_string(), "invalid model name", "{s:?}");
        }
    }

    #[test]
    fn display_shortest_forms() {
        let short = |s: &str| Name::parse(s).unwrap().display_shortest();
        assert_eq!(short("llama3.2"), "llama3.2:latest");
        assert_eq!(short("alice/mario"), "alice/mario:latest");
        assert_eq!(short("example.com/ns/m"), "example.com/ns/m:latest");
        assert_eq!(
            short("example.com/library/m"),
            "example.com/library/m:latest"
        );
        assert_eq!(short("REGISTRY.ollama.ai/Library/m:x"), "m:x");
    }

    #[test]
    fn eq_fold_and_exact_eq() {
        let a = Name::parse("Alice/Mario:Latest").unwrap();
        let b = Name::parse("alice/mario").unwrap();
        assert!(a.eq_fold(&b));
        assert_ne!(a, b);
        assert!(!a.eq_fold(&Name::parse("alice/luigi").unwrap()));
    }

    #[test]
    fn manifest_rel_path_has_four_parts() {
        let n = Name::parse("localhost:5000/ns/m:q4").unwrap();
        let p = n.manifest_rel_path();
        let parts: Vec<_> = p.iter().map(|c| c.to_str().unwrap()).collect();
        assert_eq!(parts, ["localhost:5000", "ns", "m", "q4"]);
    }

    #[test]
    fn from_parts_validates() {
        assert!(Name::from_parts("h", "n", "m", "t").is_ok());
        assert!(Name::from_parts("h", "n", "..", "t").is_err());
        assert!(Name::from_parts("h", "n/x", "m", "t").is_err());
        assert!(Name::from_parts("", "n", "m", "t").is_err());
    }

    #[test]
    fn mutated_fields_fail_validation() {
        let mut n = Name::parse("m").unwrap();
        n.model = "../x".into();
        assert!(n.validate().is_err());
    }

    #[test]
    fn from_str_works() {
        let n: Name = "m:t".parse().unwrap();
        assert_eq!(n.tag, "t");
    }
}
