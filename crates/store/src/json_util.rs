//! Small serde helpers shared by the JSON document types.

use serde::{Deserialize, Deserializer};

/// Reads a JSON `null` as the type's default. Go encodes nil slices and
/// absent values as `null`, and documents written by Ollama contain them.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Go's `json.Encoder` output: compact JSON followed by a newline.
pub(crate) fn to_go_json<T: serde::Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}
