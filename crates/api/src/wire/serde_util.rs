//! Serde helpers that give Rust types Go's `encoding/json` behaviour:
//! `null` decodes to the zero value, and `omitempty` skips zero values.

use serde::{Deserialize, Deserializer};

/// Decode `null` (or an absent field, with `#[serde(default)]`) as the
/// type's default, as Go leaves a field at its zero value for `null`.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Like [`nullable`], then lower-cased: Ollama lower-cases message roles
/// on decode so `"User"` works.
pub(crate) fn lowercase<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    nullable::<D, String>(deserializer).map(|s| s.to_lowercase())
}

/// `omitempty` for integers.
pub(crate) fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// `omitempty` for booleans.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}
