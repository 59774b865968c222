//! `hearth serve`: binds, opens the store and serves until Ctrl-C/SIGTERM.

use anyhow::Context;
use hearth_api::Host;
use hearth_engine::runner::RunnerCommand;
use hearth_server::{security, AppState, ServerConfig};
use tokio::net::TcpListener;

/// Flags of `hearth serve`.
#[derive(clap::Args, Debug, Default)]
pub struct ServeArgs {
    /// Allow listening on a non-loopback address without any API key.
    /// Anyone who can reach the address can then use and change your models.
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Share a model store written by another instance: refuse pull, push,
    /// create, copy and delete (also HEARTH_READ_ONLY=1).
    #[arg(long)]
    pub read_only: bool,
    /// Load MODEL at startup and keep it loaded; /ready answers 503 until
    /// it is (repeatable; also HEARTH_PRELOAD=a,b).
    #[arg(long, value_name = "MODEL")]
    pub preload: Vec<String>,
}

/// Logs go to stderr; `HEARTH_DEBUG=1` or `RUST_LOG` shows more.
pub fn init_tracing(default: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = std::env::var("RUST_LOG").ok().unwrap_or_else(|| {
        if hearth_api::env::flag("HEARTH_DEBUG") {
            "debug".to_string()
        } else {
            // llama.cpp is chatty at info; keep its warnings.
            format!("{default},llama-cpp-2=warn")
        }
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(filter))
        .with(stderr)
        .with(log_files())
        .try_init();
}

/// With `HEARTH_LOG_DIR` set, logs also go to `hearth.log.<date>` files in
/// that folder, a new one each day and the last seven kept — what the
/// desktop app points at, where nobody watches stderr.
fn log_files<S>() -> Option<impl tracing_subscriber::Layer<S>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    static GUARD: std::sync::OnceLock<tracing_appender::non_blocking::WorkerGuard> =
        std::sync::OnceLock::new();
    let dir = std::env::var_os("HEARTH_LOG_DIR").filter(|d| !d.is_empty())?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("hearth.log")
        .max_log_files(7)
        .build(&dir)
        .map_err(|e| {
            eprintln!(
                "warning: cannot write logs to {}: {e}",
                std::path::Path::new(&dir).display()
            )
        })
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // The guard flushes on drop: keep it for the life of the process.
    let _ = GUARD.set(guard);
    Some(
        tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(false),
    )
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing("info");
    let host = Host::from_env();
    let security = security::Settings::from_env(&host, args.insecure_no_auth)?;
    let addr = host.bind_addr();
    let listener = TcpListener::bind(&addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!("listen tcp {addr}: address already in use (is another hearth or ollama server running? set HEARTH_HOST to use another port)")
        } else {
            anyhow::anyhow!("listen tcp {addr}: {e}")
        }
    })?;
    let mut config = ServerConfig::from_env();
    config.read_only |= args.read_only;
    for model in args.preload {
        if !config.preload.contains(&model) {
            config.preload.push(model);
        }
    }
    let models = config.models.clone();
    let mut runner = RunnerCommand::current_exe().context("cannot find the hearth executable")?;
    if config.runner_nice > 0 {
        runner
            .args
            .extend(["--nice".into(), config.runner_nice.to_string()]);
    }
    let state = AppState::new(config, runner)
        .with_context(|| format!("cannot open the model store at {}", models.display()))?
        .with_security(security);
    let local = listener.local_addr()?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), models = %models.display(), "Listening on {local}");
    if state.config.read_only {
        tracing::info!("read-only model store: pull, push, create, copy and delete are refused");
    }
    hearth_server::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
