//! App logs: daily-rotated `desktop.<date>.log` files (seven kept) in the
//! platform log dir, next to the server's own `hearth.log.<date>` files
//! (the supervisor points `HEARTH_LOG_DIR` there), plus stderr.

use std::path::Path;
use std::sync::OnceLock;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Keeps the file writer's background thread alive for the process.
static GUARD: OnceLock<WorkerGuard> = OnceLock::new();

/// Installs the global subscriber. Logging problems (an unwritable dir)
/// fall back to stderr only; they never stop the app.
pub fn init(dir: &Path) {
    let filter = EnvFilter::try_from_env("HEARTH_DESKTOP_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn"));
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let file = std::fs::create_dir_all(dir)
        .ok()
        .and_then(|_| {
            Builder::new()
                .rotation(Rotation::DAILY)
                .filename_prefix("desktop")
                .filename_suffix("log")
                .max_log_files(7)
                .build(dir)
                .ok()
        })
        .map(|appender| {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let _ = GUARD.set(guard);
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
        });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .try_init();
}

/// Opens a folder in the desktop's file manager.
pub fn open_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let mut child = std::process::Command::new(opener)
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    // Reap it so no zombie is left behind.
    std::thread::spawn(move || child.wait());
    Ok(())
}
