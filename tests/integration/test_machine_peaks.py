"""The machine's measured peaks (``bench machine``, ``bench.measure.peaks``), the precision
rules of ``--precision`` and the suite's overhead summary: each figure checked against a
value worked out here, by hand, from what the code was given.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.measure.test_machine_peaks``."""

from __future__ import annotations

import json
import math

import pytest

from bench.measure import peaks
from tests.conftest import assert_one_line_error, run_cli
from tests.unit.measure.test_machine_peaks import machine_dir  # noqa: F401 (fixtures)


def test_bench_machine_measures_once_then_reads_the_cache(machine_dir, tmp_path):
    first = run_cli("machine", "--threads", "1", "--save", str(tmp_path / "published"), timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "float32 GEMM (NumPy BLAS)" in first.stdout and "(now:" in first.stdout
    [cached_file] = machine_dir.glob("*.json")
    published = json.loads((tmp_path / "published" / cached_file.name).read_text())
    entry = published["entries"]["1"]
    for key in ("numpy_fp32_gemm_gflops", "stream_copy_gbs", "measured_at", "fingerprint"):
        assert entry[key], key
    again = run_cli("machine", "--threads", "1", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == entry  # the cached figures, not a new measurement
    assert "measuring" not in again.stderr


def test_bench_machine_bad_input_is_one_error_line(machine_dir, tmp_path):
    assert_one_line_error(run_cli("machine", "--threads", "0"), "--threads")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert_one_line_error(run_cli("machine", "--save", str(a_file)), "not a folder")
    assert not list(machine_dir.glob("*.json"))  # refused before measuring anything


def test_gemm_and_copy_figures_are_real_rates(monkeypatch):
    """The figures come from timing the real calls: finite and positive, and the GEMM's work
    is 2 n^3 per call (checked through the clock: a call that took 1 s each is 2 n^3 FLOP/s)."""
    assert math.isfinite(peaks.numpy_gemm_gflops(1)) and peaks.numpy_gemm_gflops(1) > 0
    assert math.isfinite(peaks.stream_copy_gbs()) and peaks.stream_copy_gbs() > 0
    ticks = iter(range(10_000))
    monkeypatch.setattr(peaks.time, "perf_counter", lambda: float(next(ticks)))  # every call: 1 s
    monkeypatch.setattr(peaks, "GEMM_SIZES", (64, 128))
    assert peaks.numpy_gemm_gflops(1) == pytest.approx(2 * 128**3 / 1e9)  # the best size's rate
    monkeypatch.setattr(peaks, "COPY_BYTES", 8 * 1024)
    assert peaks.stream_copy_gbs() == pytest.approx(2 * 8 * 1024 / 1e9)  # bytes read + written
