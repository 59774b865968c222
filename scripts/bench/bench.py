#!/usr/bin/env python3
"""`make bench`: Hearth and llama.cpp's own `llama-server` side by side on the
same GGUF, threads, context and greedy settings; prints the table of ratios
Hearth / llama-server and writes it as JSON and markdown.

The machine is small and shared, so the runs interleave. Each round starts
both single-stream servers and alternates their requests (an idle server
costs no CPU); then, one server at a time, `-np 4` / HEARTH_NUM_PARALLEL=4
and 8. Which server goes first alternates by round (A B, then B A), and the
report takes medians over rounds and reps.

Standard library only, so any python3 runs it. The pure table code is in
report.py. Usage: see `--help` and the README's Performance section.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402

HERE = Path(__file__).resolve().parent

# A paragraph a base model continues by repeating itself: greedy decoding
# then never meets an end-of-generation token, so both servers generate the
# full budget (llama-server additionally gets ignore_eos).
PARAGRAPH = (
    "The history of computing is a story of constant abstraction. Early machines were "
    "programmed by rewiring panels and flipping switches, and every program was tied to "
    "the hardware it ran on. Assembly languages gave names to instructions, compilers "
    "turned formulas into machine code, and operating systems hid the details of disks, "
    "memory and devices behind files and processes. "
)

TOPICS = [
    "how bread rises", "the orbit of the moon", "why rivers meander", "how a violin makes sound",
    "the life of honey bees", "how glass is made", "the rules of chess openings",
    "how tides work", "why leaves change colour", "how a bicycle stays upright",
    "the history of paper", "how volcanoes form", "why the sky is blue", "how clocks keep time",
    "how compilers optimise loops", "the migration of birds", "how lighthouses work",
    "why salt melts ice", "how maps are drawn", "the chemistry of coffee",
]


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """All live descendants of pid (Hearth's runner children and theirs)."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            # the command name may contain spaces; ppid follows the last ')'
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parent_of[int(entry)] = ppid
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent_of.items() if pp == p]
        found.extend(kids)
        frontier.extend(kids)
    return found


def tree_rss_mib(pid: int) -> float:
    return sum(rss_kib(p) for p in [pid, *descendants(pid)]) / 1024.0


class Server:
    """One running server process we started (and only that one is ever
    signalled)."""

    def __init__(self, kind: str, argv: list[str], env: dict, port: int, log_path: Path):
        self.kind = kind
        self.port = port
        self.log = open(log_path, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def conn(self, timeout: float = 600) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def wait_http(self, path: str, deadline_s: float = 300) -> float:
        """Polls GET path until 200; returns seconds since the process start."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}; see {self.log.name}")
            try:
                c = self.conn(timeout=2)
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.kind} not ready after {deadline_s}s; see {self.log.name}")

    def rss_mib(self) -> float:
        return tree_rss_mib(self.proc.pid)

    def stop(self) -> None:
        kids = descendants(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Runners die with Hearth; make sure no child we caused outlives it.
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


# ---------------------------------------------------------------- clients


def post_json(server: Server, path: str, body: dict, timeout: float = 600) -> dict:
    c = server.conn(timeout)
    c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"{server.kind} {path}: HTTP {r.status}: {data[:300]!r}")
    return json.loads(data)


class Stream:
    """Result of one streamed generation, in each server's own terms."""

    def __init__(self) -> None:
        self.sent = 0.0
        self.first = None  # monotonic time of the first token event
        self.done = 0.0
        self.n_events = 0
        self.prompt_n = 0
        self.prompt_ms = 0.0
        self.eval_n = 0
        self.eval_ms = 0.0
        self.text = ""

    @property
    def ttft_ms(self) -> float:
        return ((self.first or self.done) - self.sent) * 1000.0

    def client_decode_tps(self) -> float:
        """Tokens after the first over the time after the first: what a
        streaming client sees, HTTP and IPC included."""
        if self.first is None or self.eval_n < 2 or self.done <= self.first:
            return float("nan")
        return (self.eval_n - 1) / (self.done - self.first)


class Client:
    """The same generation on either server: Ollama's /api/generate (raw) on
    Hearth, /completion on llama-server; both streamed, greedy, fixed budget."""

    def __init__(self, kind: str, model: str, cfg: argparse.Namespace):
        self.kind = kind
        self.model = model
        self.cfg = cfg

    def generate(self, server: Server, prompt: str, n_predict: int) -> Stream:
        cfg = self.cfg
        if self.kind == "hearth":
            path = "/api/generate"
            body = {
                "model": self.model, "prompt": prompt, "raw": True, "stream": True, "keep_alive": -1,
                "options": {**hearth_load_options(cfg), "temperature": 0, "repeat_penalty": 1.0,
                            "seed": 0, "num_predict": n_predict},
            }
        else:
            path = "/completion"
            body = {
                "prompt": prompt, "stream": True, "n_predict": n_predict, "temperature": 0,
                "top_k": 1, "repeat_penalty": 1.0, "seed": 0, "ignore_eos": True,
                "cache_prompt": True,
            }
        s = Stream()
        c = server.conn()
        s.sent = time.monotonic()
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        if r.status != 200:
            raise RuntimeError(f"{self.kind} {path}: HTTP {r.status}: {r.read()[:300]!r}")
        while not s.done:
            line = r.readline()
            if not line:
                break
            feed_line(self.kind, s, line, time.monotonic())
        r.read()
        c.close()
        if not s.done:
            raise RuntimeError(f"{self.kind} {path}: the stream ended without its final event")
        return s


def feed_line(kind: str, s: Stream, line: bytes, now: float) -> None:
    """Takes one line of a streamed answer into s: Hearth's NDJSON objects
    (`response`, then `done` with Ollama's counts and nanosecond durations)
    or llama-server's SSE `data:` objects (`content`, then `stop` with
    `timings` in milliseconds). Sets s.done on the final event."""
    line = line.strip()
    if kind == "llama":
        if not line.startswith(b"data:"):
            return
        line = line[5:].strip()
        if line == b"[DONE]":
            s.done = s.done or now
            return
    if not line:
        return
    ev = json.loads(line)
    if "error" in ev:
        raise RuntimeError(f"{kind}: {ev['error']}")
    final = bool(ev.get("done") if kind == "hearth" else ev.get("stop"))
    piece = ev.get("response" if kind == "hearth" else "content", "")
    if s.first is None and (piece or final):
        s.first = now
    s.text += piece
    s.n_events += 1
    if not final:
        return
    if kind == "hearth":
        s.prompt_n = ev.get("prompt_eval_count", 0)
        s.prompt_ms = ev.get("prompt_eval_duration", 0) / 1e6
        s.eval_n = ev.get("eval_count", 0)
        s.eval_ms = ev.get("eval_duration", 0) / 1e6
    else:
        t = ev.get("timings", {})
        s.prompt_n = t.get("prompt_n", 0)
        s.prompt_ms = t.get("prompt_ms", 0.0)
        s.eval_n = t.get("predicted_n", 0)
        s.eval_ms = t.get("predicted_ms", 0.0)
    s.done = now


def hearth_load_options(cfg: argparse.Namespace) -> dict:
    """Options that decide Hearth's runner (LoadSpec): identical on every
    request so no request triggers a reload."""
    return {"num_ctx": cfg.ctx, "num_thread": cfg.threads, "num_batch": cfg.batch}


# ---------------------------------------------------------------- prompts


class Prompts:
    """Prompt texts sized in the model's own tokens (counted once through
    llama-server's /tokenize)."""

    def __init__(self, tokens_per_paragraph: float, tokens_per_turn: float):
        self.tpp = tokens_per_paragraph
        self.tpt = tokens_per_turn

    @staticmethod
    def nonce() -> str:
        # Fresh leading digits: no cache, on either server, can reuse more
        # than BOS (and by chance a digit or two) of the new prompt.
        return f"{random.randrange(10**8, 10**9)}. Document.\n"

    def decode(self) -> str:
        return self.nonce() + PARAGRAPH

    def prefill(self, n_tokens: int) -> str:
        k = max(1, round(n_tokens / self.tpp))
        return self.nonce() + PARAGRAPH * k

    @staticmethod
    def turn(i: int) -> str:
        topic = TOPICS[i % len(TOPICS)]
        return (
            f"<start_of_turn>user\nQuestion {i}: tell me about {topic}.<end_of_turn>\n"
            f"<start_of_turn>model\nHere is a short note on {topic}. {PARAGRAPH}<end_of_turn>\n"
        )

    def history(self, n_tokens: int) -> tuple[str, str]:
        """A chat of about n_tokens, and the same chat grown by one turn;
        both end where the model's next answer starts."""
        k = max(1, round(n_tokens / self.tpt))
        base = self.nonce() + "".join(self.turn(i) for i in range(k))
        ask = "<start_of_turn>user\nQuestion {i}: tell me about {t}.<end_of_turn>\n<start_of_turn>model\n"
        first = base + ask.format(i=k, t=TOPICS[k % len(TOPICS)])
        grown = (first + f"Here is a short note on {TOPICS[k % len(TOPICS)]}.<end_of_turn>\n"
                 + ask.format(i=k + 1, t=TOPICS[(k + 1) % len(TOPICS)]))
        return first, grown


def calibrate(server: Server) -> Prompts:
    def count(text: str) -> int:
        return len(post_json(server, "/tokenize", {"content": text})["tokens"])

    tpp = (count(PARAGRAPH * 9) - count(PARAGRAPH)) / 8.0
    tpt = (count(Prompts.turn(1) * 9) - count(Prompts.turn(1))) / 8.0
    return Prompts(tpp, tpt)


# ---------------------------------------------------------------- phases


def start_server(kind: str, cfg: argparse.Namespace, n_parallel: int, home: Path, logs: Path) -> Server:
    port = free_port()
    env = dict(os.environ)
    log = logs / f"{kind}-np{n_parallel}.log"
    if kind == "hearth":
        env.update({
            "HEARTH_HOST": f"127.0.0.1:{port}",
            "HEARTH_MODELS": str(home / "models"),
            "HEARTH_HOME": str(home),
            "HEARTH_CONFIG": "/dev/null",
            "HEARTH_NUM_THREADS": str(cfg.threads),
            "HEARTH_NUM_PARALLEL": str(n_parallel),
            "HEARTH_CONTEXT_LENGTH": str(cfg.ctx),
            "HEARTH_KEEP_ALIVE": "-1",
        })
        s = Server(kind, [cfg.hearth, "serve"], env, port, log)
        s.wait_http("/api/version")
    else:
        argv = [cfg.llama_server, "-m", cfg.model, "--host", "127.0.0.1", "--port", str(port),
                "-t", str(cfg.threads), "-tb", str(cfg.threads), "-np", str(n_parallel),
                "-c", str(cfg.ctx * n_parallel), "-b", str(cfg.batch), "-ub", str(min(cfg.batch, 512))]
        s = Server(kind, argv, env, port, log)
    return s


def ensure_hearth_model(server: Server, cfg: argparse.Namespace, home: Path) -> None:
    c = server.conn()
    c.request("GET", "/api/tags")
    tags = json.loads(c.getresponse().read())
    c.close()
    if any(m["name"].startswith(cfg.hearth_model) for m in tags.get("models", [])):
        return
    modelfile = home / "Modelfile"
    modelfile.write_text(f"FROM {cfg.model}\n")
    env = dict(os.environ, HEARTH_HOST=f"127.0.0.1:{server.port}", HEARTH_CONFIG="/dev/null")
    subprocess.run([cfg.hearth, "create", cfg.hearth_model, "-f", str(modelfile)], env=env,
                   check=True, stdout=subprocess.DEVNULL)


def tiny_probe(server: Server, path: str) -> subprocess.Popen:
    """Starts the tiny-request loop in its own process (so the GIL of the
    streaming threads here never delays it); its latencies land in out."""
    code = (
        "import http.client,json,sys,time,select\n"
        f"port,path={server.port},{path!r}\n"
        "lat=[];c=None\n"
        "while not select.select([sys.stdin],[],[],0)[0]:\n"
        "    try:\n"
        "        c=c or http.client.HTTPConnection('127.0.0.1',port,timeout=10)\n"
        "        t=time.perf_counter();c.request('GET',path);r=c.getresponse();r.read()\n"
        "        lat.append((time.perf_counter()-t)*1000)\n"
        "    except OSError:\n"
        "        c=None\n"
        "    time.sleep(0.02)\n"
        "print(json.dumps(lat))\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def finish_probe(p: subprocess.Popen) -> list[float]:
    out, _ = p.communicate(b"stop\n", timeout=60)
    return json.loads(out)


def load_single(kind: str, cfg, prompts: Prompts, home: Path, logs: Path, res: dict) -> Server:
    """Starts one single-stream server and loads the model; records load time
    and RSS. The caller stops it."""
    s = start_server(kind, cfg, 1, home, logs)
    try:
        if kind == "hearth":
            ensure_hearth_model(s, cfg, home)
            # A server that has not loaded any model yet.
            res["rss_idle_mb"].append(s.rss_mib())
            t = time.monotonic()
            post_json(s, "/api/generate", {"model": cfg.hearth_model, "keep_alive": -1,
                                           "options": hearth_load_options(cfg)})
            res["load_s"].append(time.monotonic() - t)
        else:
            res["load_s"].append(s.wait_http("/health"))
        # Warm-up (untimed): the first decode touches every weight page.
        Client(kind, cfg.hearth_model, cfg).generate(s, prompts.decode(), 16)
        res["rss_loaded_mb"].append(s.rss_mib())
    except BaseException:
        s.stop()
        raise
    return s


def run_single(order: list[str], cfg, prompts: Prompts, home: Path, logs: Path, samples: dict) -> None:
    """Single-stream metrics with both servers up (an idle server costs no
    CPU) and their requests alternating, so a burst of load from elsewhere on
    a shared machine hits both sides instead of one."""
    servers: dict[str, Server] = {}
    try:
        for kind in order:
            servers[kind] = load_single(kind, cfg, prompts, home, logs, samples[kind])
        clients = {k: Client(k, cfg.hearth_model, cfg) for k in order}
        for _ in range(cfg.reps):
            for kind in order:
                res = samples[kind]
                g = clients[kind].generate(servers[kind], prompts.decode(), cfg.n_predict)
                res["decode_tps"].append(g.eval_n / (g.eval_ms / 1000.0) if g.eval_ms else float("nan"))
                res["decode_tps_client"].append(g.client_decode_tps())
                res["agg1_tps"].append(g.eval_n / (g.done - g.sent))
                res["decode_tokens"].append(g.eval_n)
        for _ in range(cfg.reps):
            for kind in order:
                res = samples[kind]
                g = clients[kind].generate(servers[kind], prompts.prefill(cfg.prefill_tokens), 1)
                # Hearth reports the whole prompt but times only what it
                # evaluated; the fresh first line leaves at most BOS cached.
                res["prefill_tps"].append(g.prompt_n / (g.prompt_ms / 1000.0) if g.prompt_ms else float("nan"))
                res["prefill_tokens"].append(g.prompt_n)
        for _ in range(cfg.reps):
            for kind in order:
                res = samples[kind]
                first, grown = prompts.history(cfg.history_tokens)
                cold = clients[kind].generate(servers[kind], first, 4)
                warm = clients[kind].generate(servers[kind], grown, 4)
                res["ttft_cold_ms"].append(cold.ttft_ms)
                res["ttft_warm_ms"].append(warm.ttft_ms)
                res["history_tokens"].append(cold.prompt_n)
                res["warm_prompt_eval_ms"].append(warm.prompt_ms)
    finally:
        for s in servers.values():
            s.stop()


def run_parallel(kind: str, n: int, cfg, prompts: Prompts, home: Path, logs: Path, res: dict) -> None:
    client = Client(kind, cfg.hearth_model, cfg)
    s = start_server(kind, cfg, n, home, logs)
    try:
        if kind == "hearth":
            post_json(s, "/api/generate", {"model": cfg.hearth_model, "keep_alive": -1,
                                           "options": hearth_load_options(cfg)})
        else:
            s.wait_http("/health")
        client.generate(s, prompts.decode(), 16)
        results: list[Stream] = []
        errors: list[BaseException] = []

        def one() -> None:
            try:
                results.append(client.generate(s, prompts.decode(), cfg.n_predict))
            except BaseException as e:  # reported below, never swallowed
                errors.append(e)

        probe = tiny_probe(s, "/api/tags" if kind == "hearth" else "/health")
        time.sleep(0.2)
        threads = [threading.Thread(target=one) for _ in range(n)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        lat = finish_probe(probe)
        if errors:
            raise errors[0]
        res[f"agg{n}_tps"].append(sum(g.eval_n for g in results) / wall)
        res[f"agg{n}_tokens"].append(sum(g.eval_n for g in results))
        if n == cfg.probe_streams:
            res["tiny_p50_ms"].append(report.percentile(lat, 50))
            res["tiny_p99_ms"].append(report.percentile(lat, 99))
            res["tiny_samples"].append(len(lat))
    finally:
        s.stop()


def llama_bench(cfg) -> list[dict]:
    out = subprocess.run(
        [cfg.llama_bench, "-m", cfg.model, "-t", str(cfg.threads), "-p", "512", "-n", "128",
         "-r", str(max(cfg.reps, 3)), "-o", "json"],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    rows = []
    for r in json.loads(out):
        test = f"pp{r['n_prompt']}" if r.get("n_prompt") else f"tg{r['n_gen']}"
        rows.append({"test": f"{test} (t={r.get('n_threads')})", "tps": r.get("avg_ts")})
    return rows


# ---------------------------------------------------------------- main


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "loadavg": os.getloadavg()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hearth", default="target/release/hearth")
    ap.add_argument("--llama-server", required=True)
    ap.add_argument("--llama-bench")
    ap.add_argument("--model", required=True, help="GGUF file both servers load")
    ap.add_argument("--hearth-model", default="bench-gemma", help="name Hearth stores it under")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    ap.add_argument("--ctx", type=int, default=2048, help="context per stream (slot)")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    ap.add_argument("--reps", type=int, default=2, help="repetitions per round and metric")
    ap.add_argument("--n-predict", type=int, default=128)
    ap.add_argument("--prefill-tokens", type=int, default=500)
    ap.add_argument("--history-tokens", type=int, default=1000)
    ap.add_argument("--parallel", default="4,8", help="concurrent-stream counts")
    ap.add_argument("--probe-streams", type=int, default=4,
                    help="the stream count during which /api/tags vs /health latency is recorded")
    ap.add_argument("--out", default="target/bench")
    cfg = ap.parse_args()
    cfg.hearth = str(Path(cfg.hearth).resolve())
    parallel = [int(x) for x in cfg.parallel.split(",") if x]

    out = Path(cfg.out)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    started = time.time()
    meta = {"machine_start": machine(), "config": {k: v for k, v in vars(cfg).items()}}

    print(f"[bench] calibrating prompt sizes with llama-server's tokenizer", flush=True)
    cal = start_server("llama", cfg, 1, home, logs)
    try:
        cal.wait_http("/health")
        prompts = calibrate(cal)
    finally:
        cal.stop()

    keys = ["decode_tps", "decode_tps_client", "prefill_tps", "ttft_cold_ms", "ttft_warm_ms", "agg1_tps",
            "load_s", "rss_idle_mb", "rss_loaded_mb", "tiny_p50_ms", "tiny_p99_ms", "tiny_samples",
            "decode_tokens", "prefill_tokens", "history_tokens", "warm_prompt_eval_ms"]
    keys += [f"agg{n}_tps" for n in parallel] + [f"agg{n}_tokens" for n in parallel]
    samples = {k: {key: [] for key in keys} for k in ("hearth", "llama")}

    try:
        for rnd in range(cfg.rounds):
            order = ["hearth", "llama"] if rnd % 2 == 0 else ["llama", "hearth"]
            print(f"[bench] round {rnd + 1}/{cfg.rounds}: {' then '.join(order)}", flush=True)
            run_single(order, cfg, prompts, home, logs, samples)
            for n in parallel:
                for kind in order:
                    run_parallel(kind, n, cfg, prompts, home, logs, samples[kind])
        reference = llama_bench(cfg) if cfg.llama_bench else []
    finally:
        subprocess.run(["rm", "-rf", str(home)], check=False)

    medians = {k: {key: report.median(v) for key, v in s.items()} for k, s in samples.items()}
    for k in medians:
        a1, a4 = medians[k].get("agg1_tps"), medians[k].get("agg4_tps")
        medians[k]["scale4"] = report.ratio(a4, a1)
    rows = report.build_rows(medians)
    table = report.render_markdown(rows, reference)
    meta["machine_end"] = machine()
    meta["wall_s"] = time.time() - started
    doc = {"meta": meta, "rows": rows, "llama_bench": reference, "medians": medians, "samples": samples}
    (out / "bench.json").write_text(json.dumps(doc, indent=2, default=str))
    (out / "bench.md").write_text(table)
    print()
    print(table)
    m = meta["machine_start"]
    print(f"[bench] {m['cpu']} ({m['cores']} cores), threads={cfg.threads}, ctx/slot={cfg.ctx}, "
          f"rounds={cfg.rounds}, load avg {m['loadavg'][0]:.1f} -> {meta['machine_end']['loadavg'][0]:.1f}; "
          f"{out / 'bench.json'}, {out / 'bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
