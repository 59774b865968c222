//! `hearth service install|uninstall|status`: run `hearth serve` headless
//! under systemd, as a *user* unit (`~/.config/systemd/user/hearth.service`,
//! runs while the user's manager runs) or, with `--system`, as a system unit
//! (`/etc/systemd/system/hearth.service`) under a dedicated `hearth` user
//! with its state in `/var/lib/hearth` and the usual sandboxing.
//!
//! The unit files are plain text made here ([`user_unit`],
//! [`system_unit`]); `systemctl` is only called to reload, enable, start
//! and query, and only when it exists and the unit went to systemd's own
//! folder (`--unit-dir` writes elsewhere, for packaging and tests).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

/// The unit's file name.
pub const UNIT: &str = "hearth.service";
/// Where a system unit goes.
const SYSTEM_UNIT_DIR: &str = "/etc/systemd/system";
/// The system service's home, key file and default store.
const SYSTEM_STATE_DIR: &str = "/var/lib/hearth";
/// Optional `HEARTH_*` settings of the system service, one `NAME=value` a line.
const SYSTEM_ENV_FILE: &str = "/etc/hearth/hearth.env";

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Write the unit, then (when systemd manages that folder) enable and
    /// start it.
    Install {
        #[command(flatten)]
        target: Target,
        /// System unit only: the account it runs as (created when missing).
        #[arg(long, default_value = "hearth")]
        user: String,
        /// System unit only: the model store (default /var/lib/hearth/models).
        #[arg(long)]
        models: Option<PathBuf>,
        /// Write the unit but do not enable or start it.
        #[arg(long)]
        no_start: bool,
    },
    /// Stop and disable the service and remove its unit (models and keys stay).
    Uninstall {
        #[command(flatten)]
        target: Target,
    },
    /// Whether the unit is installed, enabled and running.
    Status {
        #[command(flatten)]
        target: Target,
    },
}

/// Which unit: the user's (default) or the system's.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// The system-wide unit (needs root) instead of the user's.
    #[arg(long)]
    system: bool,
    /// Write the unit into this folder instead of systemd's (systemctl is
    /// not called then).
    #[arg(long, value_name = "DIR")]
    unit_dir: Option<PathBuf>,
}

impl Target {
    /// The folder the unit goes into, and whether systemd reads it.
    fn dir(&self) -> anyhow::Result<(PathBuf, bool)> {
        if let Some(dir) = &self.unit_dir {
            return Ok((dir.clone(), false));
        }
        if self.system {
            return Ok((PathBuf::from(SYSTEM_UNIT_DIR), true));
        }
        let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => {
                PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".config")
            }
        };
        Ok((config.join("systemd").join("user"), true))
    }

    /// `systemctl` or `systemctl --user`, with `args`.
    fn systemctl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("systemctl");
        if !self.system {
            cmd.arg("--user");
        }
        cmd.args(args);
        cmd
    }
}

pub fn run(command: ServiceCommand) -> anyhow::Result<()> {
    match command {
        ServiceCommand::Install {
            target,
            user,
            models,
            no_start,
        } => install(&target, &user, models, no_start),
        ServiceCommand::Uninstall { target } => uninstall(&target),
        ServiceCommand::Status { target } => status(&target),
    }
}

/// The user unit: `hearth serve` with the user's own settings
/// (`~/.hearth/config.toml`, `~/.hearth/models`).
pub fn user_unit(exe: &Path) -> String {
    format!(
        "\
# Written by `hearth service install`; remove with `hearth service uninstall`.
[Unit]
Description=Hearth LLM server (Ollama-compatible API)

[Service]
Type=exec
ExecStart={exe} serve
# SIGTERM drains: requests in flight finish (HEARTH_SHUTDOWN_TIMEOUT).
KillSignal=SIGTERM
TimeoutStopSec=330
Restart=on-failure
RestartSec=2
NoNewPrivileges=yes

[Install]
WantedBy=default.target
",
        exe = exec_path(exe)
    )
}

/// `exe` for `ExecStart=`, quoted when it contains white space.
fn exec_path(exe: &Path) -> String {
    let s = exe.display().to_string();
    if s.contains(char::is_whitespace) {
        format!("\"{s}\"")
    } else {
        s
    }
}

/// The system unit: `hearth serve` as `user`, state in /var/lib/hearth,
/// settings from /etc/hearth/hearth.env, and a sandbox in which only the
/// state directory and the store are writable.
pub fn system_unit(exe: &Path, user: &str, models: &Path) -> String {
    let exe = exec_path(exe);
    let models = models.display();
    let writable = if models.to_string().starts_with(SYSTEM_STATE_DIR) {
        SYSTEM_STATE_DIR.to_string()
    } else {
        format!("{SYSTEM_STATE_DIR} {models}")
    };
    format!(
        "\
# Written by `hearth service install --system`; remove with
# `hearth service uninstall --system`. Settings: {SYSTEM_ENV_FILE}
# (HEARTH_HOST=..., one per line); API keys:
#   sudo -u {user} env HEARTH_HOME={SYSTEM_STATE_DIR} hearth keys add NAME
[Unit]
Description=Hearth LLM server (Ollama-compatible API)
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
User={user}
Group={user}
ExecStart={exe} serve
Environment=HEARTH_HOME={SYSTEM_STATE_DIR}
Environment=HEARTH_MODELS={models}
EnvironmentFile=-{SYSTEM_ENV_FILE}
StateDirectory=hearth
StateDirectoryMode=0750
# SIGTERM drains: requests in flight finish (HEARTH_SHUTDOWN_TIMEOUT).
KillSignal=SIGTERM
TimeoutStopSec=330
Restart=on-failure
RestartSec=2
LimitNOFILE=65536

# Sandbox: nothing but the state directory and the store is writable.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={writable}
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
SystemCallArchitectures=native
CapabilityBoundingSet=
AmbientCapabilities=
UMask=0027

[Install]
WantedBy=multi-user.target
"
    )
}

fn install(
    target: &Target,
    user: &str,
    models: Option<PathBuf>,
    no_start: bool,
) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the hearth executable")?;
    let (dir, managed) = target.dir()?;
    let models = models.unwrap_or_else(|| Path::new(SYSTEM_STATE_DIR).join("models"));
    let text = if target.system {
        if !valid_user_name(user) {
            bail!("invalid user name {user:?}");
        }
        if !models.is_absolute() {
            bail!("--models must be an absolute path");
        }
        if exe.starts_with("/home") || exe.starts_with("/root") {
            eprintln!(
                "warning: {} is under a home folder, which the sandbox hides (ProtectHome=yes); \
                 copy it to /usr/local/bin and run `install` from there",
                exe.display()
            );
        }
        system_unit(&exe, user, &models)
    } else {
        user_unit(&exe)
    };
    let hint = if target.system { " (run as root)" } else { "" };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}{hint}", dir.display()))?;
    let path = dir.join(UNIT);
    std::fs::write(&path, text)
        .with_context(|| format!("cannot write {}{hint}", path.display()))?;
    println!("wrote {}", path.display());
    if !managed {
        return Ok(());
    }
    if target.system {
        ensure_user(user)?;
        // systemd creates /var/lib/hearth (StateDirectory); a store
        // elsewhere must exist and belong to the service user.
        if !models.starts_with(SYSTEM_STATE_DIR) && !models.exists() {
            create_owned_dir(&models, user)?;
        }
    }
    if !systemctl_available() {
        println!("systemctl not found: start it with your service manager");
        return Ok(());
    }
    if !manager_reachable(target) {
        println!(
            "systemd is not running here (or not reachable): once it is, run\n  \
             systemctl{flag} daemon-reload && systemctl{flag} enable --now {UNIT}",
            flag = user_flag(target)
        );
        return Ok(());
    }
    run_systemctl(target, &["daemon-reload"])?;
    if no_start {
        println!(
            "enable and start it with: systemctl{} enable --now {UNIT}",
            user_flag(target)
        );
        return Ok(());
    }
    run_systemctl(target, &["enable", "--now", UNIT])?;
    println!("enabled and started {UNIT}");
    if !target.system {
        println!(
            "to keep it running while you are logged out: loginctl enable-linger {}",
            std::env::var("USER").unwrap_or_else(|_| "$USER".into())
        );
    }
    Ok(())
}

fn uninstall(target: &Target) -> anyhow::Result<()> {
    let (dir, managed) = target.dir()?;
    let path = dir.join(UNIT);
    let reachable = managed && systemctl_available() && manager_reachable(target);
    if reachable && path.exists() {
        // Stopping drains the server; failures (not running) are fine.
        let _ = target
            .systemctl(&["disable", "--now", UNIT])
            .status()
            .context("cannot run systemctl")?;
    }
    match std::fs::remove_file(&path) {
        Ok(()) => println!("removed {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("{} is not installed", path.display());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    if reachable {
        run_systemctl(target, &["daemon-reload"])?;
    }
    if target.system {
        println!("models and keys stay in {SYSTEM_STATE_DIR}; the service user stays too");
    }
    Ok(())
}

fn status(target: &Target) -> anyhow::Result<()> {
    let (dir, managed) = target.dir()?;
    let path = dir.join(UNIT);
    let installed = path.is_file();
    println!(
        "installed: {}",
        if installed {
            format!("yes ({})", path.display())
        } else {
            format!("no ({} does not exist)", path.display())
        }
    );
    if !managed {
        println!("enabled:   unknown (not a systemd folder)");
        println!("active:    unknown (not a systemd folder)");
    } else if !systemctl_available() {
        println!("enabled:   unknown (systemctl not found)");
        println!("active:    unknown (systemctl not found)");
    } else {
        println!("enabled:   {}", query(target, "is-enabled"));
        println!("active:    {}", query(target, "is-active"));
    }
    Ok(())
}

/// `systemctl is-enabled|is-active hearth.service`'s answer, or why none.
fn query(target: &Target, verb: &str) -> String {
    match target.systemctl(&[verb, UNIT]).output() {
        Ok(out) => {
            let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if answer.is_empty() {
                let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
                format!("unknown ({err})")
            } else {
                answer
            }
        }
        Err(e) => format!("unknown ({e})"),
    }
}

fn systemctl_available() -> bool {
    Command::new("systemctl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the service manager answers (no systemd as PID 1, or no user
/// session bus, in containers and minimal machines).
fn manager_reachable(target: &Target) -> bool {
    target
        .systemctl(&["show-environment"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_systemctl(target: &Target, args: &[&str]) -> anyhow::Result<()> {
    let status = target
        .systemctl(args)
        .status()
        .context("cannot run systemctl")?;
    if !status.success() {
        bail!(
            "systemctl{} {} failed ({status})",
            user_flag(target),
            args.join(" ")
        );
    }
    Ok(())
}

fn user_flag(target: &Target) -> &'static str {
    if target.system {
        ""
    } else {
        " --user"
    }
}

/// Creates the system account `user` (no login, home in the state
/// directory) unless it exists.
fn ensure_user(user: &str) -> anyhow::Result<()> {
    let exists = Command::new("id")
        .arg("-u")
        .arg(user)
        .output()
        .is_ok_and(|o| o.status.success());
    if exists {
        return Ok(());
    }
    let status = Command::new("useradd")
        .args(["--system", "--user-group", "--home-dir", SYSTEM_STATE_DIR])
        .args(["--no-create-home", "--shell", "/usr/sbin/nologin", user])
        .status()
        .context("cannot run useradd (install as root)")?;
    if !status.success() {
        bail!("useradd {user} failed ({status})");
    }
    println!("created system user {user}");
    Ok(())
}

/// Creates `dir` and gives it to `user`.
fn create_owned_dir(dir: &Path, user: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let status = Command::new("chown")
        .arg(format!("{user}:{user}"))
        .arg(dir)
        .status()
        .context("cannot run chown")?;
    if !status.success() {
        bail!("chown {user} {} failed ({status})", dir.display());
    }
    println!("created {} for {user}", dir.display());
    Ok(())
}

/// A conservative POSIX account name, so it is safe in the unit file.
fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_unit_runs_serve_and_starts_with_the_session() {
        let unit = user_unit(Path::new("/usr/local/bin/hearth"));
        assert!(unit.contains("\nExecStart=/usr/local/bin/hearth serve\n"));
        assert!(unit.contains("\nWantedBy=default.target\n"));
        assert!(unit.contains("\nRestart=on-failure\n"));
        assert!(!unit.contains("User="), "a user unit runs as its user");
    }

    #[test]
    fn system_unit_is_sandboxed_with_the_store_writable() {
        let unit = system_unit(
            Path::new("/usr/local/bin/hearth"),
            "hearth",
            Path::new("/srv/models"),
        );
        for line in [
            "User=hearth",
            "Group=hearth",
            "ExecStart=/usr/local/bin/hearth serve",
            "Environment=HEARTH_MODELS=/srv/models",
            "Environment=HEARTH_HOME=/var/lib/hearth",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/hearth /srv/models",
            "ProtectHome=yes",
            "CapabilityBoundingSet=",
            "WantedBy=multi-user.target",
        ] {
            assert!(unit.lines().any(|l| l == line), "missing {line:?}:\n{unit}");
        }
        let default = system_unit(
            Path::new("/usr/bin/hearth"),
            "hearth",
            Path::new("/var/lib/hearth/models"),
        );
        assert!(default
            .lines()
            .any(|l| l == "ReadWritePaths=/var/lib/hearth"));
    }

    #[test]
    fn user_names_are_checked() {
        assert!(valid_user_name("hearth"));
        assert!(valid_user_name("_llm-1"));
        assert!(!valid_user_name("Root"));
        assert!(!valid_user_name("a b"));
        assert!(!valid_user_name("x\nExecStart=/bin/sh"));
        assert!(!valid_user_name(""));
    }
}
