//! Quantization types offered by `/api/create` (`quantize`), by name.
//! The engine maps them to llama.cpp's file types.

/// The types Ollama accepts, in its error message's order.
pub const SUPPORTED: &[&str] = &["F32", "F16", "Q4_K_S", "Q4_K_M", "Q8_0"];

/// The canonical name of a requested type (case-insensitive; `q4_K` means
/// `Q4_K_M`, as in Ollama), or `None` if unsupported.
pub fn canonical(requested: &str) -> Option<&'static str> {
    let upper = requested.to_ascii_uppercase();
    let upper = if upper == "Q4_K" {
        "Q4_K_M"
    } else {
        upper.as_str()
    };
    SUPPORTED.iter().copied().find(|name| *name == upper)
}

/// Ollama's message for a type it does not offer.
pub fn unsupported(requested: &str) -> String {
    format!(
        "unsupported quantization type {requested} - supported types are {}",
        SUPPORTED.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_canonical() {
        assert_eq!(canonical("q4_K_M"), Some("Q4_K_M"));
        assert_eq!(canonical("q4_k"), Some("Q4_K_M"));
        assert_eq!(canonical("q8_0"), Some("Q8_0"));
        assert_eq!(canonical("q2_K"), None);
        assert_eq!(unsupported("q2_K"), "unsupported quantization type q2_K - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0");
    }
}
