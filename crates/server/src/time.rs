//! Timestamps as Ollama writes them: `created_at` in UTC with nanoseconds
//! and trailing zeros trimmed; `modified_at`/`expires_at` in local time with
//! an offset.

use std::time::SystemTime;

use chrono::{DateTime, Local, SecondsFormat, Utc};

/// Now, as a `created_at` value.
pub fn created_at() -> String {
    trim_fraction(&Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true))
}

/// A file or expiry time in local time with its offset.
pub fn local(t: SystemTime) -> String {
    let t: DateTime<Local> = t.into();
    trim_fraction(&t.to_rfc3339_opts(SecondsFormat::Nanos, true))
}

/// Drops trailing zeros of the fractional seconds (and the dot if nothing
/// is left), as Go's RFC3339Nano does.
fn trim_fraction(s: &str) -> String {
    let Some(dot) = s.find('.') else {
        return s.to_string();
    };
    let end = s[dot..].find(['Z', '+', '-']).map_or(s.len(), |i| dot + i);
    let fraction = s[dot + 1..end].trim_end_matches('0');
    let mut out = s[..dot].to_string();
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out.push_str(&s[end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_is_trimmed() {
        assert_eq!(
            trim_fraction("2023-08-04T19:22:45.499127000Z"),
            "2023-08-04T19:22:45.499127Z"
        );
        assert_eq!(
            trim_fraction("2023-08-04T19:22:45.000000000+02:00"),
            "2023-08-04T19:22:45+02:00"
        );
    }

    #[test]
    fn created_at_is_utc() {
        assert!(created_at().ends_with('Z'));
    }
}
