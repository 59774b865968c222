//! Ollama's human-readable parameter counts (`format.HumanNumber`):
//! `268.10M`, `3.2B`, `8B`, `1K`.

const THOUSAND: u64 = 1_000;
const MILLION: u64 = 1_000_000;
const BILLION: u64 = 1_000_000_000;

/// Formats a count the way Ollama fills `details.parameter_size`: whole
/// billions/millions without decimals, otherwise one decimal for billions
/// and two for millions; thousands are rounded to whole `K`.
pub fn human_number(n: u64) -> String {
    // Same float arithmetic and round-half-even formatting as Go's
    // `fmt.Sprintf("%.1f", …)`, so results match digit for digit.
    let scaled = |unit: u64| n as f64 / unit as f64;
    if n >= BILLION {
        with_decimals(scaled(BILLION), 1, "B")
    } else if n >= MILLION {
        with_decimals(scaled(MILLION), 2, "M")
    } else if n >= THOUSAND {
        format!("{:.0}K", scaled(THOUSAND))
    } else {
        n.to_string()
    }
}

fn with_decimals(x: f64, decimals: usize, unit: &str) -> String {
    if x == x.floor() {
        format!("{x:.0}{unit}")
    } else {
        format!("{x:.decimals$}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_ollama_table() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1K"),
            (1001, "1K"),
            (1_000_000, "1M"),
            (125_000_000, "125M"),
            (500_500_000, "500.50M"),
            (500_550_000, "500.55M"),
            (1_000_000_000, "1B"),
            (2_800_000_000, "2.8B"),
            (2_850_000_000, "2.9B"),
            (1_000_000_000_000, "1000B"),
            (268_098_176, "268.10M"),
            (3_212_749_888, "3.2B"),
            (8_030_261_248, "8.0B"),
        ] {
            assert_eq!(human_number(n), want, "{n}");
        }
    }
}
