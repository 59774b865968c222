//! Reading `HEARTH_*` environment variables the way Ollama's `envconfig`
//! reads `OLLAMA_*` ones.
//!
//! Ollama strips surrounding whitespace and then quote characters from every
//! value, so `HEARTH_HOST="0.0.0.0"` written with literal quotes (common in
//! systemd unit files and Docker env files) still works.

/// Strip surrounding whitespace, then surrounding `"` and `'` characters.
pub fn clean(value: &str) -> &str {
    value.trim().trim_matches(|c| c == '"' || c == '\'')
}

/// The cleaned value of the environment variable `name` (empty if unset or
/// not valid Unicode).
pub fn var(name: &str) -> String {
    std::env::var(name)
        .map(|v| clean(&v).to_string())
        .unwrap_or_default()
}

/// Go's `strconv.ParseBool`: `1 t T TRUE true True 0 f F FALSE false False`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A boolean variable with Ollama's semantics: unset or empty is `false`, a
/// Go boolean is itself, and any other non-empty value counts as `true`
/// (so `HEARTH_NOPRUNE=yes` enables it, as `OLLAMA_NOPRUNE=yes` does).
pub fn flag(name: &str) -> bool {
    flag_value(&var(name))
}

fn flag_value(value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    parse_go_bool(value).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_spaces_then_quotes() {
        assert_eq!(clean("  \"0.0.0.0:8080\" "), "0.0.0.0:8080");
        assert_eq!(clean("'5m'"), "5m");
        assert_eq!(clean("\" x \""), " x ");
    }

    #[test]
    fn go_bool_spellings() {
        assert_eq!(parse_go_bool("True"), Some(true));
        assert_eq!(parse_go_bool("F"), Some(false));
        assert_eq!(parse_go_bool("yes"), None);
        assert_eq!(parse_go_bool("tRUE"), None);
    }

    #[test]
    fn flags_treat_garbage_as_true() {
        assert!(!flag_value(""));
        assert!(!flag_value("0"));
        assert!(flag_value("1"));
        assert!(flag_value("yes"));
    }
}
