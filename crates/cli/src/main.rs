//! The `hearth` command: the server (`serve`), the client commands that
//! talk to it over HTTP like Ollama's CLI, and the hidden `runner` mode in
//! which a child process hosts one loaded model.

mod commands;
mod config_file;
mod create;
mod keys;
mod output;
mod run;
mod serve;
mod service;
mod transfer;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run large language models locally, behind an Ollama-compatible API.
#[derive(Parser)]
#[command(name = "hearth", version, about, disable_version_flag = true)]
struct Cli {
    /// Show the client and server versions.
    #[arg(short = 'v', long = "version")]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (configured by HEARTH_* environment variables).
    #[command(alias = "start", after_help = config_file::help())]
    Serve(serve::ServeArgs),
    /// Manage the API keys the server accepts.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Run the server headless under systemd (user unit, or --system).
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Create a model from a Modelfile.
    Create {
        /// Name of the new model.
        model: String,
        /// Path of the Modelfile.
        #[arg(short = 'f', long = "file", default_value = "Modelfile")]
        file: std::path::PathBuf,
    },
    /// Pull a model from a registry.
    Pull {
        model: String,
        /// Allow a plain-HTTP registry.
        #[arg(long)]
        insecure: bool,
    },
    /// Push a model to a registry.
    Push {
        model: String,
        /// Allow a plain-HTTP registry.
        #[arg(long)]
        insecure: bool,
    },
    /// Show information about a model.
    Show(commands::ShowArgs),
    /// Run a model: answer PROMPT, or chat interactively without one.
    Run(run::RunArgs),
    /// Stop a running model.
    Stop { model: String },
    /// List models.
    #[command(alias = "ls")]
    List { prefix: Option<String> },
    /// List running models.
    Ps,
    /// Copy a model.
    Cp { source: String, destination: String },
    /// Remove models.
    Rm {
        #[arg(required = true)]
        models: Vec<String>,
    },
    /// Internal: quantize a GGUF for the server (started by `create`).
    #[command(hide = true)]
    Quantize {
        input: std::path::PathBuf,
        output: std::path::PathBuf,
        kind: String,
    },
    /// Internal: host one model for the server (started by `serve`).
    #[command(hide = true)]
    Runner {
        /// Lower this process's CPU priority by this much first.
        #[arg(long, default_value_t = 0)]
        nice: i32,
        spec: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Runner { spec, nice }) = &cli.command {
        serve::init_tracing("warn");
        lower_priority(*nice);
        return ExitCode::from(hearth_engine_llama::runner::main(spec) as u8);
    }
    if matches!(cli.command, Some(Command::Serve(_))) {
        if let Err(e) = config_file::apply() {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Some(Command::Quantize {
        input,
        output,
        kind,
    }) = &cli.command
    {
        serve::init_tracing("warn");
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as i32);
        return match hearth_engine_llama::quantize::quantize(input, output, kind, threads) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // Output piped into `head` and closed early is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    if cli.version {
        return commands::version().await;
    }
    let Some(command) = cli.command else {
        use clap::CommandFactory;
        Cli::command().print_help()?;
        return Ok(());
    };
    match command {
        Command::Serve(args) => serve::serve(args).await,
        Command::Keys(command) => keys::run(command),
        Command::Service(command) => service::run(command),
        Command::Create { model, file } => create::create(&model, &file).await,
        Command::Pull { model, insecure } => {
            transfer::run(transfer::Direction::Pull, &model, insecure).await
        }
        Command::Push { model, insecure } => {
            transfer::run(transfer::Direction::Push, &model, insecure).await
        }
        Command::Show(args) => commands::show(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Stop { model } => commands::stop(&model).await,
        Command::List { prefix } => commands::list(prefix.as_deref()).await,
        Command::Ps => commands::ps().await,
        Command::Cp {
            source,
            destination,
        } => commands::copy(&source, &destination).await,
        Command::Rm { models } => commands::remove(&models).await,
        Command::Runner { .. } | Command::Quantize { .. } => {
            unreachable!("handled before the runtime starts")
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Lowers this process's CPU priority by `nice` before any thread starts,
/// so every thread llama.cpp creates inherits it. Best effort: a refusal
/// only costs responsiveness.
fn lower_priority(nice: i32) {
    #[cfg(unix)]
    if nice > 0 {
        use rustix::process::{getpriority_process, setpriority_process};
        let now = getpriority_process(None).unwrap_or(0);
        if let Err(e) = setpriority_process(None, (now + nice).min(19)) {
            tracing::warn!("cannot lower the runner's priority: {e}");
        }
    }
    #[cfg(not(unix))]
    let _ = nice;
}
