//! `hearth pull NAME` and `hearth push NAME`: ask the server to transfer a
//! model and show its progress like Ollama's CLI — on a terminal one line
//! per layer, redrawn in place while it moves (percent, a bar, bytes, speed
//! and time left) and left behind when the next layer starts; plain status
//! lines when the output is not a terminal.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hearth_api::{ProgressResponse, PullRequest};

use crate::commands::connect;
use crate::output::human_bytes;

/// Which way the model goes.
#[derive(Clone, Copy)]
pub enum Direction {
    Pull,
    Push,
}

/// Runs a pull or push and draws its progress on stderr.
pub async fn run(direction: Direction, model: &str, insecure: bool) -> anyhow::Result<()> {
    let client = connect().await?;
    let request = PullRequest {
        insecure,
        ..PullRequest::new(model)
    };
    let mut progress = match direction {
        Direction::Pull => client.pull(&request),
        Direction::Push => client.push(&request),
    };
    let mut view = View::new(std::io::stderr().is_terminal());
    while let Some(line) = progress.next().await {
        match line {
            Ok(p) => view.show(&p)?,
            Err(e) => {
                view.finish()?;
                return Err(e.into());
            }
        }
    }
    view.finish()?;
    Ok(())
}

/// The progress display: the current line and whether it can be redrawn.
struct View {
    terminal: bool,
    status: String,
    open: bool,
    rate: Rate,
}

impl View {
    fn new(terminal: bool) -> View {
        View {
            terminal,
            status: String::new(),
            open: false,
            rate: Rate::default(),
        }
    }

    fn show(&mut self, p: &ProgressResponse) -> std::io::Result<()> {
        let mut err = std::io::stderr().lock();
        let changed = p.status != self.status;
        if changed {
            if self.open {
                writeln!(err)?;
                self.open = false;
            }
            self.status = p.status.clone();
            self.rate = Rate::default();
        }
        self.rate.add(Instant::now(), p.completed);
        if self.terminal {
            let line = describe(p, self.rate.per_second());
            write!(err, "\r{line}\x1b[K")?;
            self.open = true;
        } else if changed {
            writeln!(err, "{}", describe(p, None))?;
        }
        err.flush()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if self.open {
            writeln!(std::io::stderr())?;
            self.open = false;
        }
        Ok(())
    }
}

/// The recent transfer rate of one layer: bytes over the last few seconds.
#[derive(Default)]
struct Rate {
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    /// Samples older than this no longer count, so the speed follows changes.
    const WINDOW: Duration = Duration::from_secs(5);

    fn add(&mut self, at: Instant, completed: u64) {
        self.samples.push_back((at, completed));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > Self::WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second, once there is half a second of history.
    fn per_second(&self) -> Option<f64> {
        let (t0, c0) = self.samples.front()?;
        let (t1, c1) = self.samples.back()?;
        let span = t1.duration_since(*t0).as_secs_f64();
        (span >= 0.5 && c1 > c0).then(|| (c1 - c0) as f64 / span)
    }
}

/// Width of the progress bar in cells.
const BAR: usize = 16;

/// `pulling 6a0746a1ec1a:  42% ▕██████▊         ▏ 1.9 GB/4.7 GB  45 MB/s  1m2s`,
/// `pulling 6a0746a1ec1a: 100% ▕████████████████▏ 4.7 GB` when done, or the
/// bare status for phases without bytes.
fn describe(p: &ProgressResponse, rate: Option<f64>) -> String {
    if p.total == 0 {
        return p.status.clone();
    }
    let completed = p.completed.min(p.total);
    let percent = completed * 100 / p.total;
    let bar = bar(completed as f64 / p.total as f64);
    if completed == p.total {
        return format!(
            "{}: {percent:>3}% \u{2595}{bar}\u{258f} {}",
            p.status,
            human_bytes(p.total)
        );
    }
    let mut line = format!(
        "{}: {percent:>3}% \u{2595}{bar}\u{258f} {}/{}",
        p.status,
        human_bytes(completed),
        human_bytes(p.total)
    );
    if let Some(rate) = rate.filter(|r| *r >= 1.0) {
        let left = Duration::from_secs_f64((p.total - completed) as f64 / rate);
        line.push_str(&format!(
            "  {}/s  {}",
            human_bytes(rate as u64),
            short_duration(left)
        ));
    }
    line
}

/// A bar of [`BAR`] cells filled to `fraction`, in eighths of a cell.
fn bar(fraction: f64) -> String {
    // A 1/8 cell would look like the closing bracket (U+258F); it is drawn
    // as a blank.
    const PARTIAL: [char; 8] = [
        ' ', ' ', '\u{258e}', '\u{258d}', '\u{258c}', '\u{258b}', '\u{258a}', '\u{2589}',
    ];
    let eighths = (fraction.clamp(0.0, 1.0) * (BAR * 8) as f64).round() as usize;
    let full = eighths / 8;
    let mut out = "\u{2588}".repeat(full);
    if full < BAR {
        out.push(PARTIAL[eighths % 8]);
        out.push_str(&" ".repeat(BAR - full - 1));
    }
    out
}

/// `42s`, `3m12s`, `2h5m`.
fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        _ => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(completed: u64, total: u64) -> ProgressResponse {
        let mut p = ProgressResponse::status("pulling 0123456789ab");
        p.total = total;
        p.completed = completed;
        p
    }

    #[test]
    fn describes_layers_and_phases() {
        assert_eq!(
            describe(&layer(1_000_000, 4_000_000), None),
            "pulling 0123456789ab:  25% \u{2595}\u{2588}\u{2588}\u{2588}\u{2588}            \u{258f} 1.0 MB/4.0 MB"
        );
        assert_eq!(
            describe(&layer(1_000_000, 4_000_000), Some(500_000.0)),
            "pulling 0123456789ab:  25% \u{2595}\u{2588}\u{2588}\u{2588}\u{2588}            \u{258f} 1.0 MB/4.0 MB  500 KB/s  6s"
        );
        assert_eq!(
            describe(&layer(4_000_000, 4_000_000), Some(1e6)),
            format!(
                "pulling 0123456789ab: 100% \u{2595}{}\u{258f} 4.0 MB",
                "\u{2588}".repeat(BAR)
            )
        );
        assert_eq!(
            describe(&ProgressResponse::status("success"), None),
            "success"
        );
    }

    #[test]
    fn bars_fill_in_eighths() {
        for f in [0.0, 0.01, 0.5, 0.99, 1.0] {
            assert_eq!(bar(f).chars().count(), BAR, "{f}");
        }
        assert_eq!(bar(0.0), " ".repeat(BAR));
        assert!(bar(2.0 / 128.0).starts_with('\u{258e}'));
        assert!(!bar(0.99).contains('\u{258f}'));
    }

    #[test]
    fn rate_over_a_window() {
        let mut rate = Rate::default();
        let t = Instant::now();
        rate.add(t, 0);
        assert_eq!(rate.per_second(), None);
        rate.add(t + Duration::from_secs(1), 2_000);
        assert_eq!(rate.per_second(), Some(2_000.0));
        rate.add(t + Duration::from_secs(4), 5_000);
        assert_eq!(rate.per_second(), Some(1_250.0));
        rate.add(t + Duration::from_secs(8), 9_000);
        // The first two samples fell out of the window.
        assert_eq!(rate.per_second(), Some(1_000.0));
    }

    #[test]
    fn durations() {
        assert_eq!(short_duration(Duration::from_secs(42)), "42s");
        assert_eq!(short_duration(Duration::from_secs(192)), "3m12s");
        assert_eq!(short_duration(Duration::from_secs(7500)), "2h5m");
    }
}
