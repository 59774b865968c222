"""Fixtures for Hearth's Python end-to-end tests.

They drive a real `hearth serve` process through the official `ollama`
Python client. Set up once:

    python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-test.txt

Run (from the repository root, after building the server):

    .venv/bin/python -m pytest tests/python

Environment:
  HEARTH_BIN    server binary (default: target/debug/hearth, relative paths
                are taken from the repository root)
  HEARTH_GEMMA  path of the Gemma 3 270M GGUF for the tests marked `gemma`
                (default: ${HEARTH_CACHE:-~/.cache/hearth}/gemma-3-270m-q4_k_m.gguf,
                which scripts/fetch-test-model.sh fills); those tests are
                skipped when the file is absent. `-m "not gemma"` skips them too.

The server is started once per session as `HEARTH_BIN serve` with
HEARTH_HOST=127.0.0.1:<free port> and HEARTH_MODELS=<fresh temp dir> added to
the environment, and stopped at the end. Its output goes to a log file whose
tail is attached to every failing test that used it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MAKE_TINY_GGUF = REPO_ROOT / "scripts" / "make_tiny_gguf.py"

STARTUP_TIMEOUT_S = 60.0
CLIENT_TIMEOUT_S = 120.0
LOG_TAIL_CHARS = 20_000

TINY_MODEL = "tiny:latest"
TINY_EMBED_MODEL = "tiny-embed:latest"
GEMMA_MODEL = "gemma3:270m"
GEMMA_FILE_NAME = "gemma-3-270m-q4_k_m.gguf"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "gemma: needs the real Gemma 3 270M GGUF (scripts/fetch-test-model.sh); "
        "skipped when it is absent",
    )


@dataclass
class HearthServer:
    proc: subprocess.Popen
    host: str  # "127.0.0.1:PORT"
    url: str  # "http://127.0.0.1:PORT"
    models_dir: Path
    log_path: Path

    def log_tail(self, limit: int = LOG_TAIL_CHARS) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            return f"<cannot read {self.log_path}: {e}>"
        if len(text) > limit:
            text = "...[earlier output cut]...\n" + text[-limit:]
        return text


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_binary() -> Path:
    raw = os.environ.get("HEARTH_BIN", "target/debug/hearth")
    path = Path(raw)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started (its own process group) and reap it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
        return
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    proc.wait(timeout=10)


def _wait_until_up(server: HearthServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no attempt yet"
    while time.monotonic() < deadline:
        code = server.proc.poll()
        if code is not None:
            raise RuntimeError(f"hearth exited with status {code} before answering GET /")
        try:
            with urllib.request.urlopen(server.url + "/", timeout=2) as resp:
                if resp.status == 200:
                    return
                last_error = f"GET / answered {resp.status}"
        except urllib.error.HTTPError as e:
            last_error = f"GET / answered {e.code}"
        except (urllib.error.URLError, OSError) as e:
            last_error = f"GET / failed: {e}"
        time.sleep(0.1)
    raise RuntimeError(f"hearth did not answer GET / with 200 within {STARTUP_TIMEOUT_S:.0f} s ({last_error})")


@pytest.fixture(scope="session")
def hearth_server(tmp_path_factory: pytest.TempPathFactory):
    binary = _server_binary()
    if not binary.is_file():
        pytest.fail(
            f"hearth binary not found at {binary}: build it first (cargo build) "
            "or point HEARTH_BIN at it",
            pytrace=False,
        )

    work = tmp_path_factory.mktemp("hearth-server")
    models_dir = work / "models"
    models_dir.mkdir()
    log_path = work / "server.log"
    port = _free_port()
    host = f"127.0.0.1:{port}"

    env = dict(os.environ)
    env["HEARTH_HOST"] = host
    env["HEARTH_MODELS"] = str(models_dir)
    # A developer's ~/.hearth/config.toml must not change the tests.
    env["HEARTH_CONFIG"] = "/dev/null"

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "serve"],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stopped as a whole
        )
    server = HearthServer(proc=proc, host=host, url=f"http://{host}", models_dir=models_dir, log_path=log_path)
    try:
        _wait_until_up(server)
    except Exception as e:
        _stop(proc)
        pytest.fail(f"{e}\n--- hearth server log ({log_path}) ---\n{server.log_tail()}", pytrace=False)

    yield server

    _stop(proc)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    # funcargs holds every fixture in the test's closure, so this also finds
    # the server when a test reaches it only through `client`.
    server = getattr(item, "funcargs", {}).get("hearth_server")
    if isinstance(server, HearthServer):
        report.sections.append(("hearth server log (tail)", server.log_tail()))


@pytest.fixture(scope="session")
def client(hearth_server: HearthServer):
    import ollama

    c = ollama.Client(host=hearth_server.url, timeout=CLIENT_TIMEOUT_S)
    yield c
    c.close()


def _make_tiny_gguf(out: Path, *extra: str) -> Path:
    proc = subprocess.run(
        [sys.executable, str(MAKE_TINY_GGUF), str(out), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"make_tiny_gguf.py failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )
    return out


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny llama GGUF from scripts/make_tiny_gguf.py (default arguments)."""
    return _make_tiny_gguf(tmp_path_factory.mktemp("tiny-model") / "tiny.gguf")


def _create_from_gguf(client, name: str, path: Path, parameters: dict | None = None) -> str:
    """Create a model the way `ollama create` does for `FROM ./file.gguf`.

    Upload the file as a blob, then POST /api/create naming that blob.
    Returns the blob digest ("sha256:<hex>").
    """
    digest = client.create_blob(path)
    kwargs = {"files": {path.name: digest}}
    if parameters:
        kwargs["parameters"] = parameters
    resp = client.create(model=name, **kwargs)
    assert resp.status == "success", f"create {name}: {resp!r}"
    return digest


@pytest.fixture(scope="session")
def tiny_model(client, tiny_gguf: Path) -> str:
    """Name of the model created from the tiny GGUF: 'tiny:latest'."""
    _create_from_gguf(client, "tiny", tiny_gguf, parameters={"num_thread": 1})
    return TINY_MODEL


@pytest.fixture(scope="session")
def tiny_embed_model(client, tmp_path_factory: pytest.TempPathFactory) -> str:
    """'tiny-embed:latest': the tiny GGUF made with --embedding (mean pooling)."""
    path = _make_tiny_gguf(tmp_path_factory.mktemp("tiny-embed") / "tiny-embed.gguf", "--embedding")
    _create_from_gguf(client, "tiny-embed", path, parameters={"num_thread": 1})
    return TINY_EMBED_MODEL


def _gemma_path() -> Path:
    explicit = os.environ.get("HEARTH_GEMMA")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("HEARTH_CACHE") or str(Path.home() / ".cache" / "hearth")
    return Path(cache) / GEMMA_FILE_NAME


@pytest.fixture(scope="session")
def gemma_model(client) -> str:
    """'gemma3:270m' created from the real GGUF; skips the test when absent."""
    path = _gemma_path()
    if not path.is_file():
        pytest.skip(f"Gemma GGUF not found at {path} (run scripts/fetch-test-model.sh or set HEARTH_GEMMA)")
    # create_blob names the file in `files` after its basename.
    _create_from_gguf(client, "gemma3:270m", path)
    return GEMMA_MODEL
