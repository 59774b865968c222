//! `hearth service install|uninstall|status` with the real binary: the
//! systemd units it writes (into a temp folder, never systemd's own), what
//! they contain, and that `systemd-analyze verify` accepts them when it is
//! installed (Debian's `systemd` package; it works on a unit file without a
//! running systemd).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use hearth_e2e::hearth_bin;

fn hearth(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(hearth_bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run hearth")
}

fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "hearth failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `systemd-analyze [--user] verify unit`; `false` when the tool is
/// missing (said loudly). Any complaint about the unit fails the test.
fn verify(unit: &Path, user: bool) -> bool {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        let _ = writeln!(
            std::io::stderr(),
            "*** systemd-analyze not installed: unit files checked for content only ***"
        );
        return false;
    }
    // A user manager needs a runtime folder; a private one is enough.
    let runtime = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("systemd-analyze");
    if user {
        cmd.arg("--user").env("XDG_RUNTIME_DIR", runtime.path());
    }
    let out = cmd.arg("verify").arg(unit).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let about_unit: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("hearth.service"))
        .collect();
    assert!(
        out.status.success() && about_unit.is_empty(),
        "systemd-analyze verify rejected {}: {stderr}\n{}",
        unit.display(),
        std::fs::read_to_string(unit).unwrap()
    );
    true
}

#[test]
fn user_unit_install_status_uninstall() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = ok_stdout(&hearth(&["service", "install", "--unit-dir", d], &[]));
    let unit = dir.path().join("hearth.service");
    assert!(out.contains(&unit.display().to_string()), "{out}");
    let text = std::fs::read_to_string(&unit).unwrap();
    let exec = format!("ExecStart={} serve", hearth_bin().display());
    assert!(text.lines().any(|l| l == exec), "{text}");
    assert!(
        text.lines().any(|l| l == "WantedBy=default.target"),
        "{text}"
    );
    assert!(!text.contains("User="), "{text}");
    verify(&unit, true);

    let out = ok_stdout(&hearth(&["service", "status", "--unit-dir", d], &[]));
    assert!(out.contains("installed: yes"), "{out}");
    assert!(out.contains("active:"), "{out}");

    ok_stdout(&hearth(&["service", "uninstall", "--unit-dir", d], &[]));
    assert!(!unit.exists());
    let out = ok_stdout(&hearth(&["service", "status", "--unit-dir", d], &[]));
    assert!(out.contains("installed: no"), "{out}");
}

#[test]
fn system_unit_runs_as_a_sandboxed_user_with_the_store_writable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    ok_stdout(&hearth(
        &[
            "service",
            "install",
            "--system",
            "--unit-dir",
            d,
            "--models",
            "/srv/hearth-models",
        ],
        &[],
    ));
    let unit = dir.path().join("hearth.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "User=hearth",
        "StateDirectory=hearth",
        "Environment=HEARTH_MODELS=/srv/hearth-models",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/hearth /srv/hearth-models",
        "ProtectHome=yes",
        "WantedBy=multi-user.target",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
    }
    verify(&unit, false);

    // A user name that would inject unit lines is refused.
    let out = hearth(
        &[
            "service",
            "install",
            "--system",
            "--unit-dir",
            d,
            "--user",
            "x\nExecStartPre=/bin/sh",
        ],
        &[],
    );
    assert!(!out.status.success());
}

#[test]
fn status_finds_the_user_unit_under_xdg_config_home() {
    let config = tempfile::tempdir().unwrap();
    let units = config.path().join("systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(units.join("hearth.service"), "[Service]\n").unwrap();
    // With or without a running systemd, status answers and exits 0.
    let out = ok_stdout(&hearth(
        &["service", "status"],
        &[("XDG_CONFIG_HOME", config.path())],
    ));
    assert!(
        out.contains(&format!(
            "installed: yes ({})",
            units.join("hearth.service").display()
        )),
        "{out}"
    );
    assert!(out.contains("enabled:") && out.contains("active:"), "{out}");
}
