"""The app's edge states, headless like test_desktop.py: a port already
held by another server is not taken over (and the user is told which), a
server that crashes right after every start trips the crash-loop breaker
instead of being restarted forever, a server bound to all interfaces
is flagged in the window and the tray, and the login start (`--minimized`)
shows only the tray, whose Quit stops everything."""

import os
import signal
import subprocess

import pytest
from selenium.webdriver.common.by import By

from desktop_support import (Tray, alive, descendants, exe_of, free_port, group_members, launch_app,
                             quit_app, refused, wait_until, window_mapped)

HEARTH = os.path.abspath(os.environ.get("HEARTH_BIN", "hearth"))

if "HEARTH_TEST_SESSION" not in os.environ:
    pytest.skip("run through headless-session.sh (make test-desktop)", allow_module_level=True)


def base_env(work, port):
    e = dict(os.environ)
    e.update({
        "HEARTH_DESKTOP_PORT": str(port),
        "HEARTH_DESKTOP_BIN": HEARTH,
        "HEARTH_HOME": os.path.join(work, "app-home"),
        "HEARTH_NUM_THREADS": "1",
        # Nothing listens there: the start-up update check just fails.
        "HEARTH_DESKTOP_UPDATE_URL": f"http://127.0.0.1:{free_port()}/latest.json",
    })
    return e


def el(app, id_):
    return app["driver"].find_element(By.ID, id_)


def phase(app):
    return el(app, "phase").get_attribute("data-phase")


def test_refuses_a_port_held_by_another_hearth_then_starts_when_free(tmp_path):
    work = str(tmp_path)
    port = free_port()
    other_env = dict(os.environ, HEARTH_HOST=f"127.0.0.1:{port}", HEARTH_HOME=os.path.join(work, "other"),
                     HEARTH_NUM_THREADS="1")
    other = subprocess.Popen([HEARTH, "serve"], env=other_env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: not refused(f"http://127.0.0.1:{port}/health"), 30, 0.1, "the other server")
        with launch_app(base_env(work, port)) as app:
            wait_until(lambda: phase(app) == "refused", 30, 0.2, "refusal")
            message = el(app, "message").text
            assert f"Port {port}" in message and "another Hearth server" in message, message
            tray = Tray(app["pid"])
            wait_until(lambda: tray.find("Hearth: Port in use by another server"), 10, 0.2, "tray status")
            assert tray.find("Start server")[2], "Start stays available"
            # The other server was left alone.
            assert alive(other.pid) and not refused(f"http://127.0.0.1:{port}/health")
            # Once it is gone, Start works.
            other.send_signal(signal.SIGTERM)
            other.wait(30)
            el(app, "toggle-server").click()
            wait_until(lambda: phase(app) == "running", 60, 0.2, "running after the port freed")
            quit_app(app)
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()


def test_crash_loop_stops_restarting_and_says_so(tmp_path):
    work = str(tmp_path)
    crashy = os.path.join(work, "hearth")
    with open(crashy, "w") as f:
        f.write("#!/bin/sh\necho 'error: the model store is unreadable' >&2\nexit 1\n")
    os.chmod(crashy, 0o755)
    env = base_env(work, free_port())
    env["HEARTH_DESKTOP_BIN"] = crashy
    with launch_app(env) as app:
        # Back-off 1 + 2 + 4 + 8 s between the five quick crashes.
        wait_until(lambda: phase(app) == "failed", 60, 0.3, "the breaker")
        message = el(app, "message").text
        assert "crashed 5 times in a row" in message, message
        assert "the model store is unreadable" in message, message
        tray = Tray(app["pid"])
        assert tray.find("Hearth: Stopped after repeated crashes")
        assert tray.find("The server exited")  # the reason, in the menu too
        assert tray.find("Start server")[2]
        quit_app(app)


def test_a_server_exposed_to_the_network_is_flagged(tmp_path):
    work = str(tmp_path)
    env = base_env(work, free_port())
    env["HEARTH_DESKTOP_HOST"] = "0.0.0.0"
    # The server refuses a non-loopback bind without an API key.
    subprocess.run([HEARTH, "keys", "add", "remote-client"], env=env, check=True, capture_output=True,
                   timeout=30)
    with launch_app(env) as app:
        wait_until(lambda: phase(app) == "running", 60, 0.2, "running")
        # Flagged in the header, over every view, and on the server card.
        assert el(app, "exposed-pill").is_displayed()
        el(app, "view-app").click()
        assert el(app, "exposed").is_displayed()
        assert "Reachable from other computers" in el(app, "exposed").text
        assert Tray(app["pid"]).find("⚠ Reachable from the network")
        quit_app(app)


def test_login_start_is_tray_only_and_tray_quit_stops_everything(tmp_path):
    # What the login entry runs: `hearth-desktop --minimized`.
    work = str(tmp_path)
    port = free_port()
    app = subprocess.Popen([os.environ["HEARTH_DESKTOP_APP"], "--minimized"], env=base_env(work, port),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: not refused(f"http://127.0.0.1:{port}/health"), 60, 0.2, "the server")
        tray = Tray(app.pid)
        wait_until(lambda: tray.find("Hearth: Running"), 20, 0.2, "tray: running")
        assert not window_mapped("Hearth"), "no window when started at login"
        server = [p for p in descendants(app.pid) if exe_of(p) == os.path.realpath(HEARTH)]
        assert server
        tray.click("Quit Hearth")
        assert app.wait(30) == 0
        for pid in server:
            assert not group_members(pid)
        assert refused(f"http://127.0.0.1:{port}/health")
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
