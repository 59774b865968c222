"""Helpers for the desktop e2e tests: processes by PID (never by name),
the tray menu over D-Bus with gdbus, and a loopback update server."""

import contextlib
import functools
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn, timeout=30.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def _stat(pid):
    """(ppid, pgid) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces.
    fields = data[data.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[2])


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root):
    """Live descendants of `root` (not `root` itself)."""
    children = {}
    for pid in all_pids():
        st = _stat(pid)
        if st:
            children.setdefault(st[0], []).append(pid)
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def group_members(pgid):
    return [p for p in all_pids() if (_stat(p) or (0, -1))[1] == pgid]


def exe_of(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/exe")
    except OSError:
        return ""


def alive(pid):
    return _stat(pid) is not None


# ---- tray menu over D-Bus (com.canonical.dbusmenu) ----

def _gdbus(*args, timeout=10):
    return subprocess.run(["gdbus", "call", "--session", "--timeout", str(timeout), *args], check=True,
                          capture_output=True, text=True, timeout=timeout + 5).stdout


def bus_name_of(pid):
    names = re.findall(r"'(:[0-9.]+)'", _gdbus(
        "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
        "--method", "org.freedesktop.DBus.ListNames"))
    found = []
    for n in names:
        try:
            out = _gdbus("--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                         "--method", "org.freedesktop.DBus.GetConnectionUnixProcessID", n)
        except subprocess.CalledProcessError:
            continue
        if re.search(rf"\b{pid}\b", out):
            found.append(n)
    return found


def tray_menu_path(bus):
    # Some of the app's connections (zbus clients) serve no objects and
    # never answer: ask briefly.
    xml = _gdbus("--dest", bus, "--object-path", "/org/ayatana/NotificationItem",
                 "--method", "org.freedesktop.DBus.Introspectable.Introspect", timeout=2)
    nodes = re.findall(r'node name=\\?"([^"\\]+)', xml)
    if not nodes:
        return None
    return f"/org/ayatana/NotificationItem/{nodes[0]}/Menu"


class Tray:
    """The app's exported tray menu."""

    def __init__(self, app_pid):
        def find():
            for bus in bus_name_of(app_pid):
                try:
                    path = tray_menu_path(bus)
                except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    continue
                if path:
                    return bus, path
            return None
        self.bus, self.path = wait_until(find, 30, 0.3, "the tray menu on D-Bus")

    def items(self):
        """[(id, label, enabled, toggle_state)] of the top-level menu."""
        out = _gdbus("--dest", self.bus, "--object-path", self.path,
                     "--method", "com.canonical.dbusmenu.GetLayout", "--", "0", "-1", "[]")
        items = []
        for m in re.finditer(r"<\((\d+), \{([^}]*)\}, (?:@av )?\[\]\)>", out):
            props = m.group(2)
            label = re.search(r"'label': <'((?:[^'\\]|\\.)*)'>", props)
            if not label:
                continue  # separators
            enabled = "'enabled': <false>" not in props
            toggle = re.search(r"'toggle-state': <(-?\d+)>", props)
            items.append((int(m.group(1)), label.group(1).replace("_", ""), enabled,
                          int(toggle.group(1)) if toggle else None))
        return items

    def labels(self):
        return [i[1] for i in self.items()]

    def find(self, prefix):
        for item in self.items():
            if item[1].startswith(prefix):
                return item
        return None

    def click(self, prefix):
        item = self.find(prefix)
        assert item, f"no tray item {prefix!r} in {self.labels()}"
        _gdbus("--dest", self.bus, "--object-path", self.path,
               "--method", "com.canonical.dbusmenu.Event", "--", str(item[0]), "clicked", "<0>", "0")
        return item


# ---- a loopback update server ----

class UpdateServer:
    """Serves a folder on 127.0.0.1 (latest.json and the bundles)."""

    def __init__(self, root):
        self.root = root
        handler = functools.partial(_QuietHandler, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# ---- the app under tauri-driver ----

def refused(url):
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except (urllib.error.URLError, ConnectionError, OSError):
        return True
    return False


@contextlib.contextmanager
def launch_app(env):
    """Starts the app ($HEARTH_DESKTOP_APP) through tauri-driver with `env`;
    yields {"driver", "td", "pid"}. Ends everything it started by PID."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.options import ArgOptions

    app_path = os.path.abspath(os.environ["HEARTH_DESKTOP_APP"])
    driver_port, native_port = free_port(), free_port()
    tauri_driver = shutil.which("tauri-driver") or os.path.expanduser("~/.cargo/bin/tauri-driver")
    td = subprocess.Popen([tauri_driver, "--port", str(driver_port), "--native-port", str(native_port),
                           "--native-driver", "/usr/bin/WebKitWebDriver"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    opts.set_capability("tauri:options", {"application": app_path})
    try:
        driver = wait_until(lambda: webdriver.Remote(f"http://127.0.0.1:{driver_port}", options=opts),
                            30, 0.5, "a WebDriver session")
        pids = wait_until(lambda: [p for p in descendants(td.pid) if exe_of(p) == os.path.realpath(app_path)],
                          10, 0.1, "the app process")
        state = {"driver": driver, "td": td, "pid": pids[0], "server_pids": set()}
        yield state
        try:
            driver.quit()
        except WebDriverException:
            pass
    finally:
        # Anything of ours still alive is a bug; end it so the machine stays clean.
        leftovers = [p for p in descendants(td.pid) if alive(p)]
        td.terminate()
        td.wait(10)
        for p in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)


def quit_app(app):
    """Clicks Quit in the window (in its App view, where the footer is) and
    waits for the app to exit. The click's reply may never come: the app can
    be gone before it answers."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    try:
        driver = app["driver"]
        if not driver.find_element(By.ID, "quit").is_displayed():
            driver.find_element(By.ID, "view-app").click()
        driver.find_element(By.ID, "quit").click()
    except WebDriverException:
        pass
    wait_until(lambda: not alive(app["pid"]), 30, 0.1, "the app to exit")


# ---- X11: the window as a window manager sees it ----

def _x_windows_named(name):
    from Xlib import display
    d = display.Display()
    found = []

    def walk(w):
        try:
            if w.get_wm_name() == name:
                found.append(w)
            for c in w.query_tree().children:
                walk(c)
        except Exception:  # noqa: BLE001 - windows come and go
            pass
    walk(d.screen().root)
    return d, found


def window_mapped(name):
    """Whether a top-level window titled `name` is shown."""
    from Xlib import X
    d, wins = _x_windows_named(name)
    try:
        return any(w.get_attributes().map_state == X.IsViewable for w in wins)
    finally:
        d.close()


def close_window(name):
    """Sends WM_DELETE_WINDOW, as a window manager's close button does."""
    from Xlib import X
    from Xlib.protocol import event
    d, wins = _x_windows_named(name)
    try:
        protocols = d.intern_atom("WM_PROTOCOLS")
        delete = d.intern_atom("WM_DELETE_WINDOW")
        sent = 0
        for w in wins:
            if delete in (w.get_wm_protocols() or []):
                ev = event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
                w.send_event(ev, event_mask=X.NoEventMask)
                sent += 1
        d.flush()
        assert sent, f"no window {name!r} accepts WM_DELETE_WINDOW"
    finally:
        d.close()
