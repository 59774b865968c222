//! `hearth keys add|list|revoke`: manage the API keys in the key file
//! (`$HEARTH_HOME/keys.json`, default `~/.hearth/keys.json`). The server
//! picks up changes without a restart.

use clap::Subcommand;
use hearth_server::security::{KeyFile, Scope};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key and print it (it is shown only this once).
    Add {
        /// A label for the key, e.g. the client that will use it.
        name: String,
        /// `inference` (generate, chat, list, show) or `admin` (also
        /// create, copy, delete, pull, push).
        #[arg(long, default_value = "inference")]
        scope: String,
    },
    /// List the keys (names and scopes; the keys themselves are not stored).
    #[command(alias = "ls")]
    List,
    /// Revoke a key.
    #[command(alias = "rm")]
    Revoke { name: String },
}

pub fn run(command: KeysCommand) -> anyhow::Result<()> {
    let path = KeyFile::default_path();
    let mut file = KeyFile::load(&path)?;
    match command {
        KeysCommand::Add { name, scope } => {
            let scope: Scope = scope.parse()?;
            let key = file.add(&name, scope)?;
            file.save(&path)?;
            eprintln!(
                "Added {} key '{name}'. Copy it now; it is not shown again.",
                scope.as_str()
            );
            println!("{key}");
        }
        KeysCommand::List => list(&file),
        KeysCommand::Revoke { name } => {
            file.revoke(&name)?;
            file.save(&path)?;
            eprintln!("Revoked key '{name}'.");
        }
    }
    Ok(())
}

fn list(file: &KeyFile) {
    let width = file
        .keys
        .iter()
        .map(|k| k.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("{:<width$}    {:<9}    CREATED", "NAME", "SCOPE");
    for k in &file.keys {
        println!(
            "{:<width$}    {:<9}    {}",
            k.name,
            k.scope.as_str(),
            k.created_at
        );
    }
}
