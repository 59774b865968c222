//! `hearth pull NAME` and `hearth push NAME`: ask the server to transfer a
//! model and show its progress — one line per layer that is redrawn in
//! place on a terminal (bytes and percent), plain status lines otherwise.

use std::io::{IsTerminal, Write};

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
}

impl View {
    fn new(terminal: bool) -> View {
        View {
            terminal,
            status: String::new(),
            open: false,
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
        }
        if self.terminal {
            write!(err, "\r{}\x1b[K", describe(p))?;
            self.open = true;
        } else if changed {
            writeln!(err, "{}", describe(p))?;
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

/// `pulling 6a0746a1ec1a:  42% 1.9 GB/4.7 GB`, or just the status.
fn describe(p: &ProgressResponse) -> String {
    if p.total == 0 {
        return p.status.clone();
    }
    let percent = p.completed.min(p.total) * 100 / p.total;
    format!(
        "{}: {percent:>3}% {}/{}",
        p.status,
        human_bytes(p.completed),
        human_bytes(p.total)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_layers_and_phases() {
        let mut p = ProgressResponse::status("pulling 0123456789ab");
        p.total = 4_000_000;
        p.completed = 1_000_000;
        assert_eq!(describe(&p), "pulling 0123456789ab:  25% 1.0 MB/4.0 MB");
        assert_eq!(describe(&ProgressResponse::status("success")), "success");
    }
}
