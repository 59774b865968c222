"""End-to-end tests of the desktop app, headless: the real built app under
Xvfb (run through headless-session.sh), driven with tauri-driver +
WebKitWebDriver, its tray menu read and clicked over D-Bus, its API key
stored in a real gnome-keyring, its updates served from loopback.

Environment: HEARTH_DESKTOP_APP (the built hearth-desktop), HEARTH_BIN (the
built hearth), TAURI_CLI (to sign update bundles), HEARTH_TEST_SESSION
(set by headless-session.sh). Screenshots go to $HEARTH_SCREENSHOTS.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import ollama
import pytest
from selenium.webdriver.common.by import By

from desktop_support import (Tray, UpdateServer, alive, descendants, exe_of, free_port,
                             group_members, launch_app, quit_app, wait_until, window_mapped, close_window)

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.abspath(os.environ["HEARTH_DESKTOP_APP"])
HEARTH = os.path.abspath(os.environ["HEARTH_BIN"])
TAURI_CLI = os.environ["TAURI_CLI"]
KEY = os.path.join(HERE, "..", "..", "keys", "TEST-ONLY-updater.key")
KEY_PASSWORD = "hearth-test-only"
SHOTS = os.environ.get("HEARTH_SCREENSHOTS")
MAKE_TINY_GGUF = os.path.join(HERE, "..", "..", "..", "scripts", "make_tiny_gguf.py")

if "HEARTH_TEST_SESSION" not in os.environ:
    pytest.skip("run through headless-session.sh (make test-desktop)", allow_module_level=True)


def http_get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def refused(url):
    try:
        http_get(url, 2)
    except (urllib.error.URLError, ConnectionError, OSError):
        return True
    return False


# ---- signed update bundles ----

def sign(path, version):
    subprocess.run([TAURI_CLI, "signer", "sign", "-f", KEY, "-p", KEY_PASSWORD,
                    "--app-version", version, path],
                   check=True, capture_output=True, timeout=60)
    with open(path + ".sig") as f:
        return f.read().strip()


class Releases:
    """A folder of fake release bundles (random bytes, really signed)."""

    def __init__(self, root):
        self.root = root
        self.server = UpdateServer(root)

    def bundle(self, version, size=4096):
        path = os.path.join(self.root, f"Hearth_{version}_amd64.deb")
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        return path

    def publish(self, version, url_name, signature):
        platform = {"signature": signature, "url": self.server.url(url_name)}
        manifest = {
            "version": version, "notes": f"Test release {version}",
            "pub_date": "2026-11-25T12:00:00Z",
            # Unbundled builds look up linux-x86_64; a .deb install the -deb key.
            "platforms": {"linux-x86_64": platform, "linux-x86_64-deb": platform},
        }
        with open(os.path.join(self.root, "latest.json"), "w") as f:
            json.dump(manifest, f)


@pytest.fixture(scope="module")
def env():
    work = tempfile.mkdtemp(prefix="hearth-desktop-e2e-")
    releases_dir = os.path.join(work, "releases")
    os.makedirs(releases_dir)
    releases = Releases(releases_dir)
    newer = releases.bundle("0.2.0")
    releases.publish("0.2.0", os.path.basename(newer), sign(newer, "0.2.0"))
    port = free_port()
    e = dict(os.environ)
    e.update({
        "HEARTH_DESKTOP_PORT": str(port),
        "HEARTH_DESKTOP_BIN": HEARTH,
        "HEARTH_HOME": os.path.join(work, "hearth-home"),
        "HEARTH_NUM_THREADS": "1",
        "HEARTH_DESKTOP_UPDATE_URL": releases.server.url("latest.json"),
    })
    yield {"env": e, "port": port, "work": work, "releases": releases}
    releases.server.close()
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def app(env):
    with launch_app(env["env"]) as state:
        yield state


def el(app, id_):
    return app["driver"].find_element(By.ID, id_)


def phase(app):
    return el(app, "phase").get_attribute("data-phase")


def server_pid(app):
    pid = el(app, "pid").get_attribute("data-pid")
    return int(pid) if pid else None


def wait_phase(app, want, timeout=60):
    return wait_until(lambda: phase(app) == want, timeout, 0.2, f"phase {want} (now {phase(app)})")


# ---- the tests, in order, against one running app ----

def test_window_loads_and_server_answers(app, env):
    wait_until(lambda: app["driver"].find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1",
               30, 0.2, "the page")
    wait_phase(app, "running")
    pid = server_pid(app)
    assert pid and alive(pid)
    # The supervised server is a child of the app, in its own process group.
    assert pid in descendants(app["pid"])
    app["server_pids"].add(pid)
    status, body = http_get(f"http://127.0.0.1:{env['port']}/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    # (textContent: the App view may be hidden behind the web UI by now.)
    assert el(app, "url").get_attribute("textContent") == f"http://127.0.0.1:{env['port']}"
    log_dir = el(app, "log-dir").get_attribute("textContent")
    assert os.path.isfile(os.path.join(log_dir, "server-stderr.log"))
    # Both the app and the server write dated (daily-rotated) files there.
    names = os.listdir(log_dir)
    assert any(n.startswith("desktop.") and n.endswith(".log") for n in names), names
    assert any(n.startswith("hearth.log") for n in names), names


def test_window_shows_the_web_ui_then_the_app_view(app, env):
    """The main view is the server's web UI in a frame; App holds the rest."""
    driver = app["driver"]
    body = driver.find_element(By.TAG_NAME, "body")
    wait_until(lambda: body.get_attribute("data-view") == "ui", 30, 0.2, "the web UI view")
    assert not el(app, "app-view").is_displayed()
    frame = el(app, "webui")
    assert frame.get_attribute("src") == f"http://127.0.0.1:{env['port']}/ui/"
    driver.switch_to.frame(frame)
    try:
        # The web UI itself ran in the frame (its CSP lets this window frame
        # it) and reached the server: its page navigation and Models page.
        wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, 'nav[aria-label="Pages"] a'),
                   30, 0.2, "the web UI's navigation")
        links = [a.text for a in driver.find_elements(By.CSS_SELECTOR, 'nav[aria-label="Pages"] a')]
        assert "Models" in links and "Chat" in links, links
        wait_until(lambda: "No models yet" in driver.find_element(By.TAG_NAME, "main").text,
                   30, 0.2, "the Models page from the server")
        wait_until(lambda: "Connected · API" in driver.find_element(By.TAG_NAME, "body").text,
                   30, 0.2, "the web UI's connection line")
    finally:
        driver.switch_to.default_content()
    if SHOTS:
        time.sleep(0.5)  # let the frame's last update paint
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, "window.png"))
    el(app, "view-app").click()
    wait_until(lambda: body.get_attribute("data-view") == "app", 10, 0.1, "the app view")
    assert not el(app, "ui-view").is_displayed()
    assert el(app, "view-app").get_attribute("aria-pressed") == "true"


def test_open_logs_button(app):
    el(app, "open-logs").click()
    wait_until(lambda: el(app, "log-dir").text.endswith("/logs"), 10, 0.1, "the log folder")
    assert "Cannot open" not in el(app, "message").text


def test_first_run_prompt_and_screenshot(app):
    # Start-at-login is off until the user says yes: the prompt shows.
    assert el(app, "autostart-prompt").is_displayed()
    assert not el(app, "autostart").is_selected()
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        app["driver"].save_screenshot(os.path.join(SHOTS, "window-app.png"))


def test_stop_and_start_buttons(app, env):
    el(app, "toggle-server").click()
    wait_phase(app, "stopped", 30)
    assert refused(f"http://127.0.0.1:{env['port']}/health")
    el(app, "toggle-server").click()
    wait_phase(app, "running")
    app["server_pids"].add(server_pid(app))
    assert http_get(f"http://127.0.0.1:{env['port']}/health")[0] == 200


def test_api_key_goes_to_the_keyring(app, env):
    el(app, "key-name").send_keys("e2e-client")
    el(app, "key-create").click()
    wait_until(lambda: "Created" in el(app, "key-result").text, 20, 0.2, "key creation")
    # The real key is in gnome-keyring (read with libsecret's secret-tool)...
    key = subprocess.run(["secret-tool", "lookup", "service", "hearth-desktop", "username", "e2e-client"],
                         check=True, capture_output=True, text=True, timeout=10).stdout.strip()
    assert key.startswith("hth_") and len(key) == 4 + 64
    # ...it is the one the server accepts (the key file holds its SHA-256)...
    with open(os.path.join(env["env"]["HEARTH_HOME"], "keys.json")) as f:
        stored = f.read()
    assert hashlib.sha256(key.encode()).hexdigest() in stored
    # ...and the page only ever saw its masked hint.
    assert key not in app["driver"].page_source
    assert f"{key[:4]}…{key[-4:]}" in el(app, "keys").text
    # Read back through the app: Rust reads the keyring, the page compares hints.
    app["driver"].find_element(By.CSS_SELECTOR, '#keys li[data-name="e2e-client"] button[data-action="check"]').click()
    wait_until(lambda: el(app, "key-result").get_attribute("data-check") == "ok", 20, 0.2, "keyring read-back")


def autostart_file():
    return os.path.join(os.environ["XDG_CONFIG_HOME"], "autostart", "Hearth.desktop")


def test_autostart_from_the_window(app):
    assert not os.path.exists(autostart_file())
    el(app, "autostart-yes").click()
    wait_until(lambda: os.path.exists(autostart_file()), 10, 0.1, "the login entry")
    with open(autostart_file()) as f:
        entry = f.read()
    assert "--minimized" in entry and os.path.realpath(APP) in entry
    assert not el(app, "autostart-prompt").is_displayed()
    el(app, "autostart").click()  # off again
    wait_until(lambda: not os.path.exists(autostart_file()), 10, 0.1, "the login entry to go")


def test_tray_menu_over_dbus(app, env):
    tray = Tray(app["pid"])
    labels = tray.labels()
    url = f"http://127.0.0.1:{env['port']}"
    for want in ["Hearth: Running", f"Copy address {url}", "No models loaded", "Start server", "Stop server",
                 "Open Hearth", "Open logs", "Start at login", "Quit Hearth"]:
        assert any(lbl.startswith(want) for lbl in labels), (want, labels)
    assert tray.find("Stop server")[2] and not tray.find("Start server")[2]
    assert tray.find("Start at login")[3] == 0
    if SHOTS:
        render_tray_menu(tray, os.path.join(SHOTS, "tray-menu.png"))
    # Copy address puts the base URL on the clipboard.
    tray.click("Copy address")
    wait_until(lambda: subprocess.run(["xclip", "-o", "-selection", "clipboard"], capture_output=True,
                                      text=True, timeout=5).stdout == url, 10, 0.2, "the clipboard")
    # Start at login from the tray: the entry appears, then goes.
    tray.click("Start at login")
    wait_until(lambda: os.path.exists(autostart_file()), 10, 0.1, "the login entry (tray)")
    wait_until(lambda: tray.find("Start at login")[3] == 1, 10, 0.2, "the check mark")
    tray.click("Start at login")
    wait_until(lambda: not os.path.exists(autostart_file()), 10, 0.1, "the login entry to go (tray)")
    # Stop and start from the tray; the window follows.
    tray.click("Stop server")
    wait_until(lambda: tray.find("Hearth: Stopped"), 30, 0.2, "tray: stopped")
    wait_phase(app, "stopped")
    tray.click("Start server")
    wait_until(lambda: tray.find("Hearth: Running"), 60, 0.2, "tray: running")
    app["server_pids"].add(server_pid(app))


def render_tray_menu(tray, path):
    """A picture of the menu as exported over D-Bus. Xvfb has no tray host
    to draw it, so this renders the live labels with ImageMagick."""
    lines = []
    for _id, label, enabled, toggle in tray.items():
        mark = "☑ " if toggle == 1 else ("☐ " if toggle == 0 else "")
        lines.append(("  " if enabled else "· ") + mark + label)
    text = "\n".join(lines)
    subprocess.run(["convert", "-background", "#2b2b2b", "-fill", "#f0f0f0",
                    "-pointsize", "15", "-interline-spacing", "6", "-bordercolor", "#2b2b2b",
                    "-border", "14", f"label:{text}", path], check=True, timeout=30)


def test_supervisor_restarts_a_killed_server(app, env):
    old = server_pid(app)
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: phase(app) in ("restarting", "starting"), 10, 0.05, "the restart")
    wait_phase(app, "running", 60)
    new = server_pid(app)
    assert new and new != old
    app["server_pids"].add(new)
    assert "restarted 1 times" in el(app, "message").text
    assert http_get(f"http://127.0.0.1:{env['port']}/health")[0] == 200


def runners_of(server):
    """The server's runner children (`hearth runner`)."""
    hearth = os.path.realpath(HEARTH)
    return [p for p in descendants(server) if exe_of(p) == hearth]


def load_tiny_model(env):
    """Creates 'tiny' from a generated GGUF and loads it (a runner starts)."""
    # An API key exists by now (test_api_key_goes_to_the_keyring), so the
    # server wants one; creating a model needs the admin scope.
    if "admin_key" not in env:
        subprocess.run([HEARTH, "keys", "revoke", "e2e-admin"], env=env["env"], capture_output=True)
        env["admin_key"] = subprocess.run([HEARTH, "keys", "add", "e2e-admin", "--scope", "admin"],
                                          env=env["env"], check=True, capture_output=True, text=True,
                                          timeout=30).stdout.strip()
    client = ollama.Client(host=f"http://127.0.0.1:{env['port']}", timeout=120,
                           headers={"Authorization": f"Bearer {env['admin_key']}"})
    gguf = os.path.join(env["work"], "tiny.gguf")
    if not os.path.exists(gguf):
        import sys
        subprocess.run([sys.executable, MAKE_TINY_GGUF, gguf], check=True, capture_output=True, timeout=120)
        digest = client.create_blob(gguf)
        assert client.create(model="tiny", files={"tiny.gguf": digest},
                             parameters={"num_thread": 1}).status == "success"
    client.generate(model="tiny", prompt="hi", options={"num_predict": 2}, keep_alive="10m")
    return client


def test_loaded_model_shows_in_tray_and_unloads(app, env):
    client = load_tiny_model(env)
    server = server_pid(app)
    assert runners_of(server), "loading a model starts a runner"
    wait_until(lambda: "tiny:latest" in el(app, "models").text, 20, 0.2, "the model in the window")
    tray = Tray(app["pid"])
    wait_until(lambda: tray.find("Unload tiny:latest"), 20, 0.2, "the model in the tray")
    tray.click("Unload tiny:latest")
    wait_until(lambda: tray.find("No models loaded"), 30, 0.2, "the model to unload")
    assert client.ps().models == []
    wait_until(lambda: not runners_of(server), 20, 0.2, "the runner to exit")


def test_close_hides_to_tray_and_open_shows_again(app):
    assert window_mapped("Hearth")
    close_window("Hearth")
    wait_until(lambda: not window_mapped("Hearth"), 10, 0.1, "the window to hide")
    assert alive(app["pid"]) and phase(app) == "running"
    Tray(app["pid"]).click("Open Hearth")
    wait_until(lambda: window_mapped("Hearth"), 10, 0.1, "the window to show")


def test_single_instance_shows_the_first(app, env):
    close_window("Hearth")
    wait_until(lambda: not window_mapped("Hearth"), 10, 0.1, "the window to hide")
    # A second launch in the same session hands over to the first and exits.
    second = subprocess.run([APP], env=env["env"], capture_output=True, timeout=30)
    assert second.returncode == 0
    assert alive(app["pid"])
    wait_until(lambda: window_mapped("Hearth"), 10, 0.1, "the first instance's window")


def test_update_newer_version_is_offered_and_verified(app):
    # The check at start found 0.2.0, downloaded it and verified it.
    wait_until(lambda: el(app, "update-state").get_attribute("data-state") == "ready", 30, 0.2, "update ready")
    assert "0.2.0" in el(app, "update-state").text and "verified" in el(app, "update-state").text
    assert el(app, "update-install").is_displayed()
    assert Tray(app["pid"]).find("Install update 0.2.0")


def check_update(app):
    el(app, "update-check").click()
    wait_until(lambda: el(app, "update-state").get_attribute("data-state") not in ("checking", "ready"),
               30, 0.2, "an update check result")
    return el(app, "update-state").get_attribute("data-state"), el(app, "update-state").text


def test_update_tampered_bundle_is_refused(app, env):
    r = env["releases"]
    bundle = r.bundle("0.3.0")
    sig = sign(bundle, "0.3.0")
    with open(bundle, "r+b") as f:  # one byte changed after signing
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 0xFF]))
    r.publish("0.3.0", os.path.basename(bundle), sig)
    state, text = check_update(app)
    assert state == "failed" and "signature" in text.lower(), text


def test_update_signature_of_another_file_is_refused(app, env):
    r = env["releases"]
    bundle, other = r.bundle("0.3.1"), r.bundle("0.3.1-other")
    r.publish("0.3.1", os.path.basename(bundle), sign(other, "0.3.1"))
    state, text = check_update(app)
    assert state == "failed" and "signature" in text.lower(), text


def test_update_unsigned_is_refused(app, env):
    r = env["releases"]
    bundle = r.bundle("0.3.2")
    r.publish("0.3.2", os.path.basename(bundle), "")
    state, text = check_update(app)
    assert state == "failed", text


def test_update_version_not_matching_its_signature_is_refused(app, env):
    # An old, genuinely signed bundle announced as a newer version.
    r = env["releases"]
    bundle = r.bundle("0.0.5")
    r.publish("0.4.0", os.path.basename(bundle), sign(bundle, "0.0.5"))
    state, text = check_update(app)
    assert state == "failed", text


def test_update_older_version_is_not_offered(app, env):
    r = env["releases"]
    bundle = r.bundle("0.0.9")
    r.publish("0.0.9", os.path.basename(bundle), sign(bundle, "0.0.9"))
    state, text = check_update(app)
    assert state == "current" and "0.1.0 is up to date" in text, text


def test_quit_leaves_no_hearth_process(app, env):
    server = server_pid(app)
    assert server
    # With a model loaded, so a runner has to be stopped too.
    load_tiny_model(env)
    runners = runners_of(server)
    assert runners
    app["server_pids"].add(server)
    quit_app(app)
    for pid in app["server_pids"]:
        # The server's whole process group (runners included) is gone.
        assert not group_members(pid), (pid, group_members(pid))
    assert not [r for r in runners if alive(r)]
    assert refused(f"http://127.0.0.1:{env['port']}/health")
    hearth = os.path.realpath(HEARTH)
    assert not [p for p in descendants(app["td"].pid) if exe_of(p) == hearth]
