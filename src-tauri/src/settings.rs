//! Where the managed server listens and which `hearth` binary runs it:
//! read once at start from the environment, with desktop defaults.
//!
//! The desktop app owns the Ollama port (11434) by default, like Ollama's
//! own app. `HEARTH_DESKTOP_PORT` moves it (tests use their own port so
//! they never collide with a developer's server).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The port Ollama clients expect.
pub const DEFAULT_PORT: u16 = 11434;

/// Everything the supervisor needs to run `hearth serve`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The `hearth` executable (`hearth serve` and, through it, the runners).
    pub hearth_bin: PathBuf,
    /// Address the server binds. Loopback unless the user exposes it.
    pub addr: SocketAddr,
    /// Folder of the server's rotating log files (`HEARTH_LOG_DIR`).
    pub log_dir: PathBuf,
    /// Extra environment for the child (`HEARTH_HOME` and friends pass
    /// through from ours unchanged).
    pub env: Vec<(String, String)>,
    pub timing: Timing,
}

/// Supervision timing; tests shrink it.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First restart delay; doubles per consecutive crash up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// How often `/health` (and `/api/ps`) is polled.
    pub health_interval: Duration,
    /// How long a fresh server may take to answer `/health`.
    pub startup_timeout: Duration,
    /// A run shorter than this counts towards the crash-loop breaker.
    pub stable_after: Duration,
    /// Consecutive short runs that stop the restarts.
    pub crash_limit: u32,
    /// How long `hearth serve` gets to drain after SIGTERM before SIGKILL.
    pub stop_grace: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            health_interval: Duration::from_secs(2),
            startup_timeout: Duration::from_secs(60),
            stable_after: Duration::from_secs(60),
            crash_limit: 5,
            stop_grace: Duration::from_secs(10),
        }
    }
}

impl ServerSettings {
    /// Settings from the environment: `HEARTH_DESKTOP_PORT`,
    /// `HEARTH_DESKTOP_HOST` (an IP; `0.0.0.0` exposes the server to the
    /// network and the UI says so), `HEARTH_DESKTOP_BIN` (the `hearth`
    /// binary; default: next to this executable, then `$PATH`).
    pub fn from_env(log_dir: PathBuf) -> crate::error::Result<Self> {
        let mut s = Self::from_env_without_bin(log_dir);
        s.hearth_bin = locate_hearth(
            std::env::var_os("HEARTH_DESKTOP_BIN").map(PathBuf::from),
            std::env::current_exe().ok().as_deref(),
        )?;
        Ok(s)
    }

    /// Like [`Self::from_env`] with `hearth_bin` left as plain `hearth`.
    pub fn from_env_without_bin(log_dir: PathBuf) -> Self {
        let port = std::env::var("HEARTH_DESKTOP_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(DEFAULT_PORT);
        let ip = std::env::var("HEARTH_DESKTOP_HOST")
            .ok()
            .and_then(|h| h.parse().ok())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        ServerSettings {
            hearth_bin: PathBuf::from(exe_name()),
            addr: SocketAddr::new(ip, port),
            log_dir,
            env: Vec::new(),
            timing: Timing::default(),
        }
    }

    /// The base URL clients use (loopback even when bound to all interfaces).
    pub fn base_url(&self) -> String {
        let ip = if self.addr.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            self.addr.ip()
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Whether other machines can reach the server.
    pub fn exposed(&self) -> bool {
        !self.addr.ip().is_loopback()
    }
}

/// The `hearth` binary: an explicit path, else the one installed next to
/// the app (the .deb puts both in /usr/bin; a dev build finds
/// target/<profile>/hearth), else the first `hearth` on `$PATH`.
pub fn locate_hearth(
    explicit: Option<PathBuf>,
    current_exe: Option<&Path>,
) -> crate::error::Result<PathBuf> {
    let mut tried = Vec::new();
    let mut candidates: Vec<PathBuf> = explicit.into_iter().collect();
    if let Some(dir) = current_exe.and_then(Path::parent) {
        candidates.push(dir.join(exe_name()));
        // A dev build of the app lives in src-tauri/target/<profile>/, the
        // server in the root workspace's target/<profile>/.
        if let (Some(profile), Some(target)) = (dir.file_name(), dir.parent()) {
            if let Some(root) = target.parent().and_then(Path::parent) {
                candidates.push(root.join("target").join(profile).join(exe_name()));
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join(exe_name())));
    }
    for c in candidates {
        if c.is_file() {
            return Ok(c);
        }
        tried.push(c.display().to_string());
    }
    Err(crate::error::DesktopError::HearthNotFound(tried.join(", ")))
}

fn exe_name() -> &'static str {
    if cfg!(windows) {
        "hearth.exe"
    } else {
        "hearth"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hearth_next_to_the_app_before_path() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("hearth"), b"").unwrap();
        let found = locate_hearth(None, Some(&bin.join("hearth-desktop"))).unwrap();
        assert_eq!(found, bin.join("hearth"));
    }

    #[test]
    fn finds_the_root_workspace_build_from_a_dev_build() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("src-tauri/target/debug");
        let server = dir.path().join("target/debug");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::create_dir_all(&server).unwrap();
        std::fs::write(server.join("hearth"), b"").unwrap();
        let found = locate_hearth(None, Some(&app.join("hearth-desktop"))).unwrap();
        assert_eq!(found, server.join("hearth"));
    }

    #[test]
    fn a_missing_explicit_binary_is_reported() {
        let err = locate_hearth(Some("/nonexistent/hearth".into()), None);
        // $PATH may hold a hearth on a developer machine; only check the
        // message when nothing was found at all.
        if let Err(e) = err {
            assert!(e.to_string().contains("/nonexistent/hearth"));
        }
    }

    #[test]
    fn exposed_and_base_url() {
        let mut s = ServerSettings {
            hearth_bin: "hearth".into(),
            addr: "127.0.0.1:11434".parse().unwrap(),
            log_dir: "/tmp".into(),
            env: vec![],
            timing: Timing::default(),
        };
        assert!(!s.exposed());
        assert_eq!(s.base_url(), "http://127.0.0.1:11434");
        s.addr = "0.0.0.0:11434".parse().unwrap();
        assert!(s.exposed());
        assert_eq!(s.base_url(), "http://127.0.0.1:11434");
    }
}
