//! Runs `hearth serve` as a child process and keeps it alive.
//!
//! One actor task owns the child. It polls `/health` (and `/api/ps` for
//! the tray), restarts the server when it exits or stops answering, with a
//! back-off that doubles from 1 s to 30 s, and gives up after
//! `crash_limit` consecutive runs that each died within `stable_after` of
//! starting (a crash loop: a broken model file, a bad setting) — the user
//! is told instead of the CPU being burnt forever.
//!
//! The server runs in its own process group, so its llama.cpp runner
//! children can be signalled with it: stop = SIGTERM to the group (the
//! server drains and ends its runners), then SIGKILL to whatever is left
//! after the grace period. On Linux the child also gets SIGTERM if the app
//! dies without stopping it (`PR_SET_PDEATHSIG`), so no server outlives
//! the app. Before binding, the port is probed: if Ollama or another
//! Hearth already answers there, the supervisor refuses to start rather
//! than fight over the port, and says who it is.

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

use crate::probe::Probe;
use crate::settings::{ServerSettings, Timing};

/// What the server is doing, as the tray and the window show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Stopped,
    Starting,
    Running,
    Restarting,
    Stopping,
    /// Crash loop: restarts were stopped; the user has to start it again.
    Failed,
    /// The port belongs to another server; we did not take it over.
    Refused,
}

impl Phase {
    /// Icon family: running, stopped, error or busy.
    pub fn icon(self) -> &'static str {
        match self {
            Phase::Running => "running",
            Phase::Stopped => "stopped",
            Phase::Failed | Phase::Refused => "error",
            Phase::Starting | Phase::Restarting | Phase::Stopping => "busy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub phase: Phase,
    /// One line for people ("Running", "Port 11434 is used by Ollama 0.5.1…").
    pub message: String,
    pub url: String,
    /// Bound to a non-loopback address: reachable from the network.
    pub exposed: bool,
    /// PID of `hearth serve` (also its process group).
    pub pid: Option<u32>,
    pub models: Vec<String>,
    /// Restarts after crashes since the user last started the server.
    pub restarts: u32,
}

enum Cmd {
    Start,
    Stop(oneshot::Sender<()>),
    /// Poll health and models now (after an unload, say).
    Refresh,
}

/// Handle to the actor; cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    tx: mpsc::UnboundedSender<Cmd>,
    status: watch::Receiver<Status>,
    settings: Arc<ServerSettings>,
    probe: Probe,
}

impl Supervisor {
    /// The handle and the actor future; the caller spawns the future on
    /// its runtime (Tauri's, or a test's).
    pub fn new(settings: ServerSettings) -> (Self, impl std::future::Future<Output = ()>) {
        let settings = Arc::new(settings);
        let (tx, rx) = mpsc::unbounded_channel();
        let initial = Status {
            phase: Phase::Stopped,
            message: "Stopped".into(),
            url: settings.base_url(),
            exposed: settings.exposed(),
            pid: None,
            models: Vec::new(),
            restarts: 0,
        };
        let (status_tx, status) = watch::channel(initial);
        let probe = Probe::with_key_minter(
            &settings.base_url(),
            settings.hearth_bin.clone(),
            settings.env.clone(),
        );
        let actor = Actor {
            settings: settings.clone(),
            probe: probe.clone(),
            rx,
            status: status_tx,
            restarts: 0,
        };
        (
            Supervisor {
                tx,
                status,
                settings,
                probe,
            },
            actor.run(),
        )
    }

    pub fn start(&self) {
        let _ = self.tx.send(Cmd::Start);
    }

    /// Stops the server and waits until it and its runners are gone.
    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Cmd::Stop(done)).is_ok() {
            let _ = wait.await;
        }
    }

    pub fn refresh(&self) {
        let _ = self.tx.send(Cmd::Refresh);
    }

    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// HTTP access to the managed server (with the app's key when needed).
    pub fn probe(&self) -> &Probe {
        &self.probe
    }
}

/// Delay before restart number `crashes` (1-based) in a row.
pub fn backoff(t: &Timing, crashes: u32) -> Duration {
    let factor = 1u32 << crashes.saturating_sub(1).min(16);
    t.base_delay.saturating_mul(factor).min(t.max_delay)
}

enum Outcome {
    Stop(oneshot::Sender<()>),
    Exited(Option<ExitStatus>),
    Unhealthy,
    Closed,
}

struct Actor {
    settings: Arc<ServerSettings>,
    probe: Probe,
    rx: mpsc::UnboundedReceiver<Cmd>,
    status: watch::Sender<Status>,
    restarts: u32,
}

impl Actor {
    async fn run(mut self) {
        let timing = self.settings.timing;
        let mut want = false;
        // Consecutive runs that ended before `stable_after`.
        let mut quick_crashes = 0u32;
        loop {
            if !want {
                match self.rx.recv().await {
                    None => return,
                    Some(Cmd::Start) => {
                        want = true;
                        quick_crashes = 0;
                        self.restarts = 0;
                    }
                    Some(Cmd::Stop(done)) => {
                        let _ = done.send(());
                    }
                    Some(Cmd::Refresh) => {}
                }
                continue;
            }

            self.set(Phase::Starting, "Starting…", None, vec![]);
            if let Some(occupant) = self.probe.identify().await {
                let msg = format!(
                    "Port {} is already used by {occupant}. Hearth did not take it over: \
                     quit that server or set HEARTH_DESKTOP_PORT.",
                    self.settings.addr.port()
                );
                tracing::warn!("{msg}");
                self.set(Phase::Refused, &msg, None, vec![]);
                want = false;
                continue;
            }
            // Measured before the spawn: a fast child writes at once.
            let stderr_path = self.settings.log_dir.join(STDERR_LOG);
            let stderr_start = std::fs::metadata(&stderr_path).map_or(0, |m| m.len());
            let mut child = match spawn_server(&self.settings) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!("{e}");
                    self.set(Phase::Failed, &e.to_string(), None, vec![]);
                    want = false;
                    continue;
                }
            };
            let pid = child.id();
            tracing::info!(pid, bin = %self.settings.hearth_bin.display(), "hearth serve started");
            let started = Instant::now();
            let outcome = self.watch(&mut child, pid, started).await;
            let reason = match outcome {
                Outcome::Stop(done) => {
                    self.set(Phase::Stopping, "Stopping…", pid, vec![]);
                    terminate(&mut child, pid, timing.stop_grace).await;
                    self.set(Phase::Stopped, "Stopped", None, vec![]);
                    let _ = done.send(());
                    want = false;
                    continue;
                }
                Outcome::Closed => {
                    terminate(&mut child, pid, timing.stop_grace).await;
                    return;
                }
                Outcome::Exited(status) => {
                    let how = match status {
                        Some(s) => format!("The server exited ({s})"),
                        None => "The server exited".to_string(),
                    };
                    // An error exit ends with the reason; a signal has none.
                    let failed = status.and_then(|s| s.code()).is_some_and(|c| c != 0);
                    match last_line(&stderr_path, stderr_start).filter(|_| failed) {
                        Some(line) => format!("{how}: {line}"),
                        None => how,
                    }
                }
                Outcome::Unhealthy => {
                    terminate(&mut child, pid, Duration::ZERO).await;
                    "The server stopped answering".to_string()
                }
            };
            // Runners of a crashed server would be orphans: end the group.
            kill_group(pid, nix::sys::signal::Signal::SIGKILL);
            tracing::warn!(pid, "{reason}");
            if started.elapsed() >= timing.stable_after {
                quick_crashes = 0;
            }
            quick_crashes += 1;
            self.restarts += 1;
            if quick_crashes >= timing.crash_limit {
                let msg = format!(
                    "{reason}. It crashed {quick_crashes} times in a row right after starting, \
                     so Hearth stopped restarting it. Open the logs to see why, then start it again."
                );
                tracing::error!("{msg}");
                self.set(Phase::Failed, &msg, None, vec![]);
                want = false;
                continue;
            }
            let delay = backoff(&timing, quick_crashes);
            let msg = format!("{reason}; restarting in {} s", delay.as_secs_f32());
            self.set(Phase::Restarting, &msg, None, vec![]);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                cmd = self.rx.recv() => match cmd {
                    None => return,
                    Some(Cmd::Stop(done)) => {
                        self.set(Phase::Stopped, "Stopped", None, vec![]);
                        let _ = done.send(());
                        want = false;
                    }
                    Some(Cmd::Start) | Some(Cmd::Refresh) => {}
                },
            }
        }
    }

    /// Waits for the child to exit, the user to stop it, or health to fail.
    async fn watch(&mut self, child: &mut Child, pid: Option<u32>, started: Instant) -> Outcome {
        let timing = self.settings.timing;
        let mut tick = tokio::time::interval(timing.health_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut healthy_once = false;
        let mut failures = 0u32;
        loop {
            let poll = tokio::select! {
                status = child.wait() => return Outcome::Exited(status.ok()),
                cmd = self.rx.recv() => match cmd {
                    None => return Outcome::Closed,
                    Some(Cmd::Stop(done)) => return Outcome::Stop(done),
                    Some(Cmd::Refresh) => true,
                    Some(Cmd::Start) => false,
                },
                _ = tick.tick() => true,
            };
            if !poll {
                continue;
            }
            if self.probe.healthy().await {
                healthy_once = true;
                failures = 0;
                let models = self.probe.loaded_models().await.unwrap_or_default();
                let msg = if self.restarts > 0 {
                    format!("Running (restarted {} times)", self.restarts)
                } else {
                    "Running".to_string()
                };
                self.set(Phase::Running, &msg, pid, models);
            } else {
                failures += 1;
                let dead = if healthy_once {
                    failures >= 3
                } else {
                    started.elapsed() > timing.startup_timeout
                };
                if dead {
                    return Outcome::Unhealthy;
                }
            }
        }
    }

    fn set(&self, phase: Phase, message: &str, pid: Option<u32>, models: Vec<String>) {
        let next = Status {
            phase,
            message: message.to_string(),
            url: self.settings.base_url(),
            exposed: self.settings.exposed(),
            pid,
            models,
            restarts: self.restarts,
        };
        self.status.send_if_modified(|s| {
            if *s == next {
                false
            } else {
                *s = next;
                true
            }
        });
    }
}

/// Where the server's stderr goes (panics, errors before logging is up).
const STDERR_LOG: &str = "server-stderr.log";

/// The last non-empty line written to `path` after byte `from`: usually
/// why a server that would not start gave up.
fn last_line(path: &std::path::Path, from: u64) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let tail = bytes.get(usize::try_from(from).ok()?..)?;
    let text = String::from_utf8_lossy(tail);
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(240).collect())
}

fn spawn_server(s: &ServerSettings) -> crate::error::Result<Child> {
    use crate::error::DesktopError;
    std::fs::create_dir_all(&s.log_dir)?;
    // Panics and early errors go to stderr before logging is up: keep them.
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(s.log_dir.join(STDERR_LOG))?;
    let mut cmd = Command::new(&s.hearth_bin);
    cmd.arg("serve")
        .env("HEARTH_HOST", s.addr.to_string())
        .env("HEARTH_LOG_DIR", &s.log_dir)
        .envs(s.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: the closure runs in the forked child before exec and only
    // makes one async-signal-safe syscall (prctl).
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)
        });
    }
    cmd.spawn().map_err(DesktopError::Spawn)
}

/// SIGTERM to the group, wait up to `grace`, then SIGKILL the group.
async fn terminate(child: &mut Child, pid: Option<u32>, grace: Duration) {
    kill_group(pid, nix::sys::signal::Signal::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        tracing::warn!(?pid, "server did not stop in {grace:?}; killing it");
    }
    kill_group(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait().await;
}

fn kill_group(pid: Option<u32>, signal: nix::sys::signal::Signal) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // ESRCH (group already gone) is the normal case after a clean exit.
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fast() -> Timing {
        Timing {
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(400),
            health_interval: Duration::from_millis(100),
            startup_timeout: Duration::from_secs(5),
            stable_after: Duration::from_secs(5),
            crash_limit: 3,
            stop_grace: Duration::from_secs(2),
        }
    }

    #[test]
    fn backoff_doubles_from_one_second_to_thirty() {
        let t = Timing::default();
        let secs: Vec<u64> = (1..=8).map(|n| backoff(&t, n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn settings(bin: PathBuf, port: u16, log_dir: PathBuf) -> ServerSettings {
        ServerSettings {
            hearth_bin: bin,
            addr: format!("127.0.0.1:{port}").parse().unwrap(),
            log_dir,
            env: vec![],
            timing: fast(),
        }
    }

    async fn wait_for(rx: &mut watch::Receiver<Status>, phase: Phase) -> Status {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if rx.borrow().phase == phase {
                    return rx.borrow().clone();
                }
                rx.changed().await.unwrap();
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {phase:?}; last status {:?}", rx.borrow()))
    }

    /// A real executable that crashes at once: the breaker must stop the
    /// restarts after `crash_limit` tries and say so.
    #[tokio::test]
    async fn crash_loop_trips_the_breaker() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("crashy");
        std::fs::write(&bin, "#!/bin/sh\necho boom >&2\nexit 3\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let (sup, actor) = Supervisor::new(settings(bin, free_port(), dir.path().join("logs")));
        tokio::spawn(actor);
        let mut rx = sup.subscribe();
        sup.start();
        let failed = wait_for(&mut rx, Phase::Failed).await;
        assert!(failed.message.contains("3 times"), "{}", failed.message);
        // Why it died is in the message, not only in the logs.
        assert!(failed.message.contains("boom"), "{}", failed.message);
        assert_eq!(failed.restarts, 3);
        let stderr = std::fs::read_to_string(dir.path().join("logs/server-stderr.log")).unwrap();
        assert_eq!(stderr.matches("boom").count(), 3);
    }

    /// A port held by someone else is not taken over.
    #[tokio::test]
    async fn refuses_a_port_that_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        // Answer like a non-HTTP program: accept and close.
        std::thread::spawn(move || {
            for s in holder.incoming().flatten() {
                drop(s);
            }
        });
        let (sup, actor) = Supervisor::new(settings("/bin/true".into(), port, dir.path().into()));
        tokio::spawn(actor);
        let mut rx = sup.subscribe();
        sup.start();
        let refused = wait_for(&mut rx, Phase::Refused).await;
        assert!(refused.message.contains(&port.to_string()));
        assert!(
            refused.message.contains("another program"),
            "{}",
            refused.message
        );
    }

    /// The real server: supervised, killed, restarted, stopped with its
    /// whole process group.
    #[tokio::test]
    async fn restarts_a_killed_hearth_server_and_stops_it_cleanly() {
        let bin = hearth_bin();
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(bin, free_port(), dir.path().join("logs"));
        s.timing.stable_after = Duration::from_secs(60);
        s.env = vec![
            (
                "HEARTH_HOME".into(),
                dir.path().join("home").display().to_string(),
            ),
            ("HEARTH_NUM_THREADS".into(), "1".into()),
        ];
        let (sup, actor) = Supervisor::new(s);
        tokio::spawn(actor);
        let mut rx = sup.subscribe();
        sup.start();
        let first = wait_for(&mut rx, Phase::Running).await;
        let pid = first.pid.unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        wait_for(&mut rx, Phase::Restarting).await;
        let second = wait_for(&mut rx, Phase::Running).await;
        let pid2 = second.pid.unwrap();
        assert_ne!(pid, pid2);
        assert_eq!(second.restarts, 1);
        assert!(Probe::new(&second.url).healthy().await);
        sup.stop().await;
        assert_eq!(sup.status().phase, Phase::Stopped);
        // Nothing of the group is left (signal 0 = existence check).
        let gone = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid2 as i32), None);
        assert_eq!(gone, Err(nix::errno::Errno::ESRCH));
        assert!(!Probe::new(&second.url).healthy().await);
    }

    /// Another Hearth on the port is named as such, and left alone.
    #[tokio::test]
    async fn refuses_to_take_over_from_another_hearth() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut other = tokio::process::Command::new(hearth_bin())
            .arg("serve")
            .env("HEARTH_HOST", format!("127.0.0.1:{port}"))
            .env("HEARTH_HOME", dir.path().join("other"))
            .env("HEARTH_NUM_THREADS", "1")
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let probe = Probe::new(&format!("http://127.0.0.1:{port}"));
        tokio::time::timeout(Duration::from_secs(20), async {
            while !probe.healthy().await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the other server starts");
        let (sup, actor) = Supervisor::new(settings(hearth_bin(), port, dir.path().into()));
        tokio::spawn(actor);
        let mut rx = sup.subscribe();
        sup.start();
        let refused = wait_for(&mut rx, Phase::Refused).await;
        assert!(
            refused.message.contains("another Hearth server"),
            "{}",
            refused.message
        );
        assert!(probe.healthy().await, "the other server is untouched");
        other.kill().await.unwrap();
    }

    fn hearth_bin() -> PathBuf {
        let bin = std::env::var_os("HEARTH_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/hearth")
            });
        assert!(
            bin.is_file(),
            "{} missing: build it first (cargo build --bin hearth at the repository root)",
            bin.display()
        );
        bin
    }
}
