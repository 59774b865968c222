//! Human-readable output: sizes, relative times and aligned tables.

use chrono::{DateTime, Local};

/// Bytes in Ollama's style: `253 MB`, `1.9 GB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 || value >= 10.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `5 minutes ago`, `About a minute from now`, `Forever`.
pub fn relative(timestamp: &str) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(timestamp) else {
        return timestamp.to_string();
    };
    let now = Local::now();
    let delta = t.with_timezone(&Local) - now;
    let secs = delta.num_seconds();
    if secs > 100 * 365 * 24 * 3600 {
        return "Forever".to_string();
    }
    let (abs, suffix) = if secs <= 0 {
        (-secs, "ago")
    } else {
        (secs, "from now")
    };
    let text = match abs {
        0..=1 => {
            return if secs <= 0 {
                "Less than a second ago".into()
            } else {
                "Less than a second from now".into()
            }
        }
        2..=59 => format!("{abs} seconds"),
        60..=119 => "About a minute".to_string(),
        120..=3599 => format!("{} minutes", abs / 60),
        3600..=7199 => "About an hour".to_string(),
        7200..=86_399 => format!("{} hours", abs / 3600),
        86_400..=172_799 => "1 day".to_string(),
        _ => format!("{} days", abs / 86_400),
    };
    format!("{text} {suffix}")
}

/// Prints rows as columns separated by at least three spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|s| s.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_ollama() {
        assert_eq!(human_bytes(253_113_024), "253 MB");
        assert_eq!(human_bytes(1_900_000_000), "1.9 GB");
        assert_eq!(human_bytes(12), "12 B");
    }
}
