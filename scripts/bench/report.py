"""The pure half of `make bench`: from raw samples to medians, ratios,
acceptance verdicts and the printed / markdown / JSON table.

Nothing here starts a process or opens a socket, so tests can feed it
made-up samples (tests/python/test_bench_report.py) while every number in a
real report comes from scripts/bench/bench.py's measurements.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class Metric:
    """One row of the table."""

    key: str
    label: str
    unit: str
    # True when a larger value is better (throughput), False for times/sizes.
    higher_is_better: bool
    # Acceptance target on the ratio Hearth / llama-server, if any:
    # (">=", 0.97) means ratio >= 0.97 passes.
    ratio_target: Optional[tuple[str, float]] = None
    # Acceptance target on Hearth's own value, if any: ("<", 5.0).
    value_target: Optional[tuple[str, float]] = None


METRICS: list[Metric] = [
    Metric("decode_tps", "single-stream decode (server timings)", "tok/s", True, (">=", 0.97)),
    Metric("decode_tps_client", "single-stream decode (client, streamed)", "tok/s", True, (">=", 0.97)),
    Metric("prefill_tps", "prefill (~500-token prompt)", "tok/s", True, (">=", 0.97)),
    Metric("ttft_cold_ms", "TTFT cold (~1,000-token history)", "ms", False),
    Metric("ttft_warm_ms", "TTFT warm (history + one turn)", "ms", False, ("<=", 1.2)),
    Metric("agg1_tps", "aggregate, 1 stream", "tok/s", True),
    Metric("agg4_tps", "aggregate, 4 streams", "tok/s", True, (">=", 0.95)),
    Metric("agg8_tps", "aggregate, 8 streams", "tok/s", True),
    Metric("scale4", "4 streams / 1 stream", "x", True, value_target=(">=", 2.0)),
    Metric("load_s", "model load", "s", False),
    Metric("rss_idle_mb", "RSS idle, no model", "MiB", False),
    Metric("rss_loaded_mb", "RSS with the model loaded", "MiB", False),
    Metric("tiny_p50_ms", "tiny request p50 under load (/api/tags vs /health)", "ms", False),
    Metric("tiny_p99_ms", "tiny request p99 under load (/api/tags vs /health)", "ms", False, value_target=("<", 5.0)),
]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def median(values: list[float]) -> Optional[float]:
    """Median of the finite values, None when there are none."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(finite) if finite else None


def percentile(values: list[float], p: float) -> Optional[float]:
    """The p-th percentile (0-100) by nearest rank; None for no values."""
    data = sorted(v for v in values if v is not None and math.isfinite(v))
    if not data:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(data)))
    return data[min(rank, len(data)) - 1]


def ratio(hearth: Optional[float], llama: Optional[float]) -> Optional[float]:
    """Hearth / llama-server, None when either side is missing or zero."""
    if hearth is None or llama is None or llama == 0:
        return None
    return hearth / llama


def verdict(value: Optional[float], target: Optional[tuple[str, float]]) -> Optional[str]:
    """"PASS"/"FAIL" for a value against a target, None without a target,
    "FAIL" when there is a target but no value to judge."""
    if target is None:
        return None
    if value is None:
        return "FAIL"
    op, bound = target
    return "PASS" if _OPS[op](value, bound) else "FAIL"


def build_rows(medians: dict[str, dict[str, Optional[float]]]) -> list[dict]:
    """Rows of the table from per-server medians
    (`medians["hearth"][key]`, `medians["llama"][key]`)."""
    rows = []
    for m in METRICS:
        h = medians.get("hearth", {}).get(m.key)
        l = medians.get("llama", {}).get(m.key)
        r = ratio(h, l)
        target = None
        result = None
        if m.ratio_target is not None:
            target = f"ratio {m.ratio_target[0]} {m.ratio_target[1]:g}"
            result = verdict(r, m.ratio_target)
        elif m.value_target is not None:
            target = f"Hearth {m.value_target[0]} {m.value_target[1]:g}"
            result = verdict(h, m.value_target)
        rows.append(
            {
                "key": m.key,
                "metric": m.label,
                "unit": m.unit,
                "hearth": h,
                "llama_server": l,
                "ratio": r,
                "target": target,
                "result": result,
            }
        )
    return rows


def _fmt(v: Optional[float], digits: int = 1) -> str:
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}f}"


def _fmt_ratio(v: Optional[float]) -> str:
    return "—" if v is None else f"{v:.2f}"


def render_markdown(rows: list[dict], reference: list[dict]) -> str:
    """The markdown table (also what is printed), then llama-bench's raw
    reference lines."""
    lines = [
        "| metric | unit | Hearth | llama-server | Hearth / llama-server | target | result |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['metric']} | {r['unit']} | {_fmt(r['hearth'])} | {_fmt(r['llama_server'])} "
            f"| {_fmt_ratio(r['ratio'])} | {r['target'] or ''} | {r['result'] or ''} |"
        )
    if reference:
        lines.append("")
        lines.append("| llama-bench (same library, same threads) | tok/s |")
        lines.append("|---|---:|")
        for ref in reference:
            lines.append(f"| {ref['test']} | {_fmt(ref['tps'])} |")
    return "\n".join(lines) + "\n"
