"""Smoke tests of `make bench`'s pure parts (scripts/bench/report.py and the
stream parser of scripts/bench/bench.py): medians, percentiles, ratios,
PASS/FAIL verdicts and both servers' streamed answers. The benchmark itself
is never run here: `make bench` measures, tests only check the arithmetic."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "bench"))
import bench  # noqa: E402
import report  # noqa: E402


def test_median_and_percentile_skip_missing_values():
    assert report.median([3.0, float("nan"), 1.0, None, 2.0]) == 2.0
    assert report.median([]) is None
    lat = [float(i) for i in range(1, 101)]
    assert report.percentile(lat, 50) == 50.0
    assert report.percentile(lat, 99) == 99.0
    assert report.percentile([7.0], 99) == 7.0
    assert report.percentile([], 99) is None


def test_ratio_and_verdicts():
    assert report.ratio(97.0, 100.0) == pytest.approx(0.97)
    assert report.ratio(None, 1.0) is None
    assert report.ratio(1.0, 0.0) is None
    assert report.verdict(0.97, (">=", 0.97)) == "PASS"
    assert report.verdict(0.969, (">=", 0.97)) == "FAIL"
    assert report.verdict(4.9, ("<", 5.0)) == "PASS"
    assert report.verdict(5.0, ("<", 5.0)) == "FAIL"
    assert report.verdict(None, ("<", 5.0)) == "FAIL"
    assert report.verdict(1.0, None) is None


def test_rows_apply_ratio_and_value_targets():
    medians = {
        "hearth": {"decode_tps": 45.0, "ttft_warm_ms": 130.0, "tiny_p99_ms": 7.5, "scale4": 2.5},
        "llama": {"decode_tps": 50.0, "ttft_warm_ms": 100.0, "tiny_p99_ms": 0.5, "scale4": 3.0},
    }
    rows = {r["key"]: r for r in report.build_rows(medians)}
    assert rows["decode_tps"]["ratio"] == pytest.approx(0.9)
    assert rows["decode_tps"]["result"] == "FAIL"
    assert rows["ttft_warm_ms"]["ratio"] == pytest.approx(1.3)
    assert rows["ttft_warm_ms"]["result"] == "FAIL"
    # p99 and scaling are judged on Hearth's own value, not the ratio.
    assert rows["tiny_p99_ms"]["result"] == "FAIL"
    assert rows["scale4"]["result"] == "PASS"
    # No measurement at all is a failure, never a pass.
    assert rows["prefill_tps"]["result"] == "FAIL"
    assert rows["load_s"]["result"] is None
    table = report.render_markdown(list(rows.values()), [{"test": "pp512 (t=2)", "tps": 300.0}])
    assert "| single-stream decode (server timings) | tok/s | 45.0 | 50.0 | 0.90 |" in table
    assert "| pp512 (t=2) | 300 |" in table


def test_streams_of_both_servers_parse_to_the_same_measures():
    h = bench.Stream()
    h.sent = 0.0
    bench.feed_line("hearth", h, b'{"response":"Hi","done":false}\n', 0.25)
    bench.feed_line("hearth", h, b'{"response":" there","done":false}\n', 0.35)
    assert not h.done
    bench.feed_line(
        "hearth",
        h,
        b'{"response":"","done":true,"prompt_eval_count":500,"prompt_eval_duration":1000000000,'
        b'"eval_count":3,"eval_duration":60000000}\n',
        0.45,
    )
    assert (h.text, h.prompt_n, h.prompt_ms, h.eval_n, h.eval_ms) == ("Hi there", 500, 1000.0, 3, 60.0)
    assert h.ttft_ms == pytest.approx(250.0)
    assert h.client_decode_tps() == pytest.approx(2 / 0.2)

    l = bench.Stream()
    l.sent = 0.0
    bench.feed_line("llama", l, b"\n", 0.1)
    bench.feed_line("llama", l, b'data: {"content":"Hi","stop":false}\n', 0.2)
    bench.feed_line(
        "llama",
        l,
        b'data: {"content":"","stop":true,"timings":{"prompt_n":499,"prompt_ms":900.5,'
        b'"predicted_n":3,"predicted_ms":55.0}}\n',
        0.4,
    )
    assert (l.text, l.prompt_n, l.prompt_ms, l.eval_n, l.eval_ms) == ("Hi", 499, 900.5, 3, 55.0)
    assert l.ttft_ms == pytest.approx(200.0)
    assert l.done == 0.4


def test_a_streamed_error_is_raised():
    with pytest.raises(RuntimeError, match="model not found"):
        bench.feed_line("hearth", bench.Stream(), b'{"error":"model not found"}\n', 0.0)
