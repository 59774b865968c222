//! Go durations and `keep_alive` (spec §3.2).
//!
//! Ollama parses `keep_alive` strings with Go's `time.ParseDuration`, so the
//! accepted syntax (`"1h30m"`, `"1.5h"`, `".5s"`, `"-1m"`, bare `"0"`) and the
//! error texts (`time: missing unit in duration "10"`) are Go's. This module
//! re-implements that parser rather than approximating it, because clients
//! send these strings verbatim and tests compare the error text.

use std::time::Duration;

use serde_json::Value;

use crate::ApiError;

const NANOS_PER_SECOND: u64 = 1_000_000_000;
/// Go's limit for the magnitude of a duration: `1 << 63` nanoseconds.
const LIMIT: u64 = 1 << 63;

/// Parse a Go duration string into signed nanoseconds.
///
/// Errors carry status 400 and Go's exact text, e.g.
/// `time: invalid duration "abc"`, `time: missing unit in duration "10"`,
/// `time: unknown unit "d" in duration "1d"`.
pub fn parse_go_duration(input: &str) -> Result<i64, ApiError> {
    let (negative, mut rest) = split_sign(input);
    // Go special-cases a lone zero so that "0" needs no unit.
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid(input));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let (nanos, tail) = parse_component(rest, input)?;
        total = total
            .checked_add(nanos)
            .filter(|t| *t <= LIMIT)
            .ok_or_else(|| invalid(input))?;
        rest = tail;
    }
    if negative {
        // 1 << 63 wraps to i64::MIN, which is exactly Go's result.
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid(input))
}

fn split_sign(input: &str) -> (bool, &str) {
    if let Some(rest) = input.strip_prefix('-') {
        (true, rest)
    } else {
        (false, input.strip_prefix('+').unwrap_or(input))
    }
}

/// One `[0-9]*(\.[0-9]*)?unit` group; returns its nanoseconds and the rest.
fn parse_component<'a>(s: &'a str, input: &str) -> Result<(u64, &'a str), ApiError> {
    if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
        return Err(invalid(input));
    }
    let (whole, whole_digits, s) = leading_int(s).ok_or_else(|| invalid(input))?;
    let (frac, scale, frac_digits, s) = match s.strip_prefix('.') {
        Some(after_dot) => leading_fraction(after_dot),
        None => (0, 1.0, 0, s),
    };
    if whole_digits == 0 && frac_digits == 0 {
        return Err(invalid(input));
    }
    let unit_len = s
        .find(|c: char| c == '.' || c.is_ascii_digit())
        .unwrap_or(s.len());
    if unit_len == 0 {
        return Err(ApiError::bad_request(format!(
            "time: missing unit in duration {}",
            time_quote(input)
        )));
    }
    let (unit_text, rest) = s.split_at(unit_len);
    let unit = unit_nanos(unit_text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "time: unknown unit {} in duration {}",
            time_quote(unit_text),
            time_quote(input)
        ))
    })?;
    let nanos = scale_component(whole, frac, scale, unit).ok_or_else(|| invalid(input))?;
    Ok((nanos, rest))
}

fn scale_component(whole: u64, frac: u64, scale: f64, unit: u64) -> Option<u64> {
    if whole > LIMIT / unit {
        return None;
    }
    let mut nanos = whole * unit;
    if frac > 0 {
        // Go uses float64 here; it is nanosecond-accurate up to hours.
        nanos += (frac as f64 * (unit as f64 / scale)) as u64;
        if nanos > LIMIT {
            return None;
        }
    }
    Some(nanos)
}

/// Leading decimal digits: (value, digit count, rest); `None` on overflow.
fn leading_int(s: &str) -> Option<(u64, usize, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let mut value: u64 = 0;
    for b in s[..digits].bytes() {
        if value > LIMIT / 10 {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
        if value > LIMIT {
            return None;
        }
    }
    Some((value, digits, &s[digits..]))
}

/// Leading fraction digits: (value, scale, digit count, rest). Digits past
/// the precision of a u64 are consumed but ignored, as in Go.
fn leading_fraction(s: &str) -> (u64, f64, usize, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (mut value, mut scale, mut overflow) = (0u64, 1.0f64, false);
    for b in s[..digits].bytes() {
        if overflow {
            continue;
        }
        if value > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + u64::from(b - b'0');
        if next > LIMIT {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, digits, &s[digits..])
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        // "µs" is U+00B5 (micro sign), "μs" is U+03BC (Greek mu); Go takes both.
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        _ => return None,
    })
}

fn invalid(input: &str) -> ApiError {
    ApiError::bad_request(format!("time: invalid duration {}", time_quote(input)))
}

/// The quoting of Go's `time` package: `"` and `\` are escaped, and every
/// byte of a control or non-ASCII character is written as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

/// Format signed nanoseconds like Go's `time.Duration.String`
/// (`"5m0s"`, `"1h0m0s"`, `"1.5s"`, `"300ms"`, `"0s"`).
pub fn format_go_duration(nanos: i64) -> String {
    let magnitude = nanos.unsigned_abs();
    let body = if magnitude < NANOS_PER_SECOND {
        format_sub_second(magnitude)
    } else {
        format_clock(magnitude)
    };
    if nanos < 0 {
        format!("-{body}")
    } else {
        body
    }
}

fn format_sub_second(nanos: u64) -> String {
    let (precision, unit) = match nanos {
        0 => return "0s".to_string(),
        1..=999 => (0, "ns"),
        1_000..=999_999 => (3, "\u{b5}s"),
        _ => (6, "ms"),
    };
    format!("{}{unit}", decimal(nanos, precision))
}

fn format_clock(nanos: u64) -> String {
    let seconds = decimal(nanos % (60 * NANOS_PER_SECOND), 9);
    let minutes_total = nanos / (60 * NANOS_PER_SECOND);
    let (hours, minutes) = (minutes_total / 60, minutes_total % 60);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// `value / 10^precision` with the fraction's trailing zeros (and a bare
/// decimal point) removed.
fn decimal(value: u64, precision: u32) -> String {
    let divisor = 10u64.pow(precision);
    let (whole, frac) = (value / divisor, value % divisor);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = precision as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// How long a model stays loaded after its last request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// Never unload (a negative `keep_alive`).
    Forever,
    /// Unload after this long idle; zero means as soon as it is idle.
    For(Duration),
}

impl Default for KeepAlive {
    /// Ollama's default session duration, five minutes.
    fn default() -> Self {
        KeepAlive::DEFAULT
    }
}

impl KeepAlive {
    /// Five minutes, the default when neither request nor env sets one.
    pub const DEFAULT: KeepAlive = KeepAlive::For(Duration::from_secs(300));

    /// Parse a request's `keep_alive` value (spec §3.2).
    ///
    /// `null` is "not set" (`Ok(None)`); numbers are seconds (fractions
    /// allowed); strings are Go durations; anything negative is
    /// [`KeepAlive::Forever`]. Other JSON types fail with
    /// `Unsupported type: 'bool'` (or `'array'`, `'object'`), status 400.
    pub fn from_value(value: &Value) -> Result<Option<KeepAlive>, ApiError> {
        match value {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(Some(Self::from_seconds(n.as_f64().unwrap_or(0.0)))),
            Value::String(s) => Ok(Some(Self::from_nanos(parse_go_duration(s)?))),
            other => Err(ApiError::bad_request(format!(
                "Unsupported type: '{}'",
                json_type_name(other)
            ))),
        }
    }

    /// [`KeepAlive::from_value`] for an optional request field.
    pub fn from_request(value: Option<&Value>) -> Result<Option<KeepAlive>, ApiError> {
        value.map_or(Ok(None), Self::from_value)
    }

    /// A number of seconds; negative is forever.
    pub fn from_seconds(seconds: f64) -> KeepAlive {
        if seconds < 0.0 {
            return KeepAlive::Forever;
        }
        let nanos = seconds * NANOS_PER_SECOND as f64;
        // Go's int64 conversion overflows past ~292 years; that is forever.
        if nanos >= i64::MAX as f64 {
            return KeepAlive::Forever;
        }
        KeepAlive::For(Duration::from_nanos(nanos as u64))
    }

    /// Signed nanoseconds; negative is forever.
    pub fn from_nanos(nanos: i64) -> KeepAlive {
        match u64::try_from(nanos) {
            Ok(n) => KeepAlive::For(Duration::from_nanos(n)),
            Err(_) => KeepAlive::Forever,
        }
    }

    /// The duration, or `None` for forever.
    pub fn duration(self) -> Option<Duration> {
        match self {
            KeepAlive::Forever => None,
            KeepAlive::For(d) => Some(d),
        }
    }

    /// True for "unload as soon as idle" (`keep_alive: 0`).
    pub fn is_zero(self) -> bool {
        self == KeepAlive::For(Duration::ZERO)
    }

    /// The JSON Ollama's client sends: `-1` for forever, else a Go duration
    /// string such as `"5m0s"`.
    pub fn to_value(self) -> Value {
        match self {
            KeepAlive::Forever => Value::from(-1),
            KeepAlive::For(d) => {
                let nanos = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
                Value::String(format_go_duration(nanos))
            }
        }
    }
}

/// Parse `HEARTH_KEEP_ALIVE`: a Go duration or a bare integer of seconds;
/// negative is forever; empty or invalid falls back to five minutes.
pub fn keep_alive_from_env(raw: &str) -> KeepAlive {
    let value = crate::env::clean(raw);
    if let Ok(nanos) = parse_go_duration(value) {
        return KeepAlive::from_nanos(nanos);
    }
    match value.parse::<i64>() {
        Ok(secs) if secs < 0 => KeepAlive::Forever,
        Ok(secs) => KeepAlive::from_seconds(secs as f64),
        Err(_) => KeepAlive::DEFAULT,
    }
}

/// Go-ish names for JSON types, used in `Unsupported type: '...'`.
fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const S: i64 = 1_000_000_000;

    #[test]
    fn parses_go_syntax() {
        assert_eq!(parse_go_duration("5m").unwrap(), 300 * S);
        assert_eq!(parse_go_duration("1h30m").unwrap(), 5400 * S);
        assert_eq!(parse_go_duration("300ms").unwrap(), 300_000_000);
        assert_eq!(parse_go_duration("1.5h").unwrap(), 5400 * S);
        assert_eq!(parse_go_duration("-1m").unwrap(), -60 * S);
        assert_eq!(parse_go_duration("0").unwrap(), 0);
        assert_eq!(parse_go_duration("-0").unwrap(), 0);
        assert_eq!(parse_go_duration("+5s").unwrap(), 5 * S);
        assert_eq!(parse_go_duration(".5s").unwrap(), S / 2);
        assert_eq!(parse_go_duration("1.s").unwrap(), S);
        assert_eq!(parse_go_duration("1µs").unwrap(), 1_000);
        assert_eq!(parse_go_duration("1μs").unwrap(), 1_000);
        assert_eq!(parse_go_duration("1us2ns").unwrap(), 1_002);
        assert_eq!(parse_go_duration("0s").unwrap(), 0);
        assert_eq!(
            parse_go_duration("2562047h47m16.854775807s").unwrap(),
            i64::MAX
        );
        assert_eq!(
            parse_go_duration("-2562047h47m16.854775808s").unwrap(),
            i64::MIN
        );
    }

    #[test]
    fn error_texts_match_go() {
        let msg = |s| parse_go_duration(s).unwrap_err().message;
        assert_eq!(msg("10"), r#"time: missing unit in duration "10""#);
        assert_eq!(msg("-1"), r#"time: missing unit in duration "-1""#);
        assert_eq!(msg("abc"), r#"time: invalid duration "abc""#);
        assert_eq!(msg(""), r#"time: invalid duration """#);
        assert_eq!(msg("-"), r#"time: invalid duration "-""#);
        assert_eq!(msg(".s"), r#"time: invalid duration ".s""#);
        assert_eq!(msg("1d"), r#"time: unknown unit "d" in duration "1d""#);
        assert_eq!(msg("5 m"), r#"time: unknown unit " m" in duration "5 m""#);
        assert_eq!(
            msg("9223372036854775808ns"),
            r#"time: invalid duration "9223372036854775808ns""#
        );
        assert_eq!(
            msg("1é"),
            r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#
        );
        assert_eq!(parse_go_duration("x").unwrap_err().status, Some(400));
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(300 * S), "5m0s");
        assert_eq!(format_go_duration(3600 * S), "1h0m0s");
        assert_eq!(format_go_duration(S + S / 2), "1.5s");
        assert_eq!(format_go_duration(300_000_000), "300ms");
        assert_eq!(format_go_duration(1_500_000), "1.5ms");
        assert_eq!(format_go_duration(1_500), "1.5µs");
        assert_eq!(format_go_duration(12), "12ns");
        assert_eq!(format_go_duration(-90 * S), "-1m30s");
        assert_eq!(format_go_duration(i64::MAX), "2562047h47m16.854775807s");
    }

    #[test]
    fn keep_alive_from_json() {
        let ka = |v: Value| KeepAlive::from_value(&v);
        assert_eq!(ka(json!(null)).unwrap(), None);
        assert_eq!(ka(json!(0)).unwrap(), Some(KeepAlive::For(Duration::ZERO)));
        assert_eq!(
            ka(json!(1.5)).unwrap(),
            Some(KeepAlive::For(Duration::from_millis(1500)))
        );
        assert_eq!(ka(json!(-1)).unwrap(), Some(KeepAlive::Forever));
        assert_eq!(ka(json!("-1m")).unwrap(), Some(KeepAlive::Forever));
        assert_eq!(
            ka(json!("30s")).unwrap(),
            Some(KeepAlive::For(Duration::from_secs(30)))
        );
        assert!(ka(json!("0")).unwrap().unwrap().is_zero());
        assert_eq!(
            ka(json!("10")).unwrap_err().message,
            r#"time: missing unit in duration "10""#
        );
        assert_eq!(
            ka(json!(true)).unwrap_err().message,
            "Unsupported type: 'bool'"
        );
        assert_eq!(
            ka(json!([1])).unwrap_err().message,
            "Unsupported type: 'array'"
        );
        assert_eq!(
            ka(json!({})).unwrap_err().message,
            "Unsupported type: 'object'"
        );
        assert_eq!(ka(json!(1e300)).unwrap(), Some(KeepAlive::Forever));
    }

    #[test]
    fn keep_alive_round_trips_to_json() {
        assert_eq!(KeepAlive::Forever.to_value(), json!(-1));
        assert_eq!(KeepAlive::DEFAULT.to_value(), json!("5m0s"));
        assert_eq!(KeepAlive::For(Duration::ZERO).to_value(), json!("0s"));
    }

    #[test]
    fn keep_alive_env() {
        let five = KeepAlive::DEFAULT;
        assert_eq!(keep_alive_from_env(""), five);
        assert_eq!(keep_alive_from_env("bogus"), five);
        assert_eq!(
            keep_alive_from_env("10"),
            KeepAlive::For(Duration::from_secs(10))
        );
        assert_eq!(keep_alive_from_env("-1"), KeepAlive::Forever);
        assert_eq!(keep_alive_from_env("-5m"), KeepAlive::Forever);
        assert_eq!(
            keep_alive_from_env("\"1h\""),
            KeepAlive::For(Duration::from_secs(3600))
        );
        assert!(keep_alive_from_env("0").is_zero());
    }
}
