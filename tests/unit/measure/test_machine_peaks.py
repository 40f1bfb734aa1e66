"""The machine's measured peaks (``bench machine``, ``bench.measure.peaks``), the precision
rules of ``--precision`` and the suite's overhead summary: each figure checked against a
value worked out here, by hand, from what the code was given."""

import json
from types import SimpleNamespace

import pytest

from bench.core.errors import BenchError
from bench.measure import peaks
from bench.run import overhead, precision


@pytest.fixture
def machine_dir(tmp_path, monkeypatch):
    d = tmp_path / "machines"
    monkeypatch.setenv("BENCH_MACHINE_DIR", str(d))
    return d


def test_best_rate_divides_the_work_by_the_fastest_timed_call(monkeypatch):
    # a fake clock: the warm-up is not timed, then calls of 0.5, 0.2 and 0.3 s
    durations = iter([0.5, 0.2, 0.3])
    now = [0.0]
    state = {"start": True}

    def clock():
        if state["start"]:
            state["start"] = False
            return now[0]
        now[0] += next(durations)
        state["start"] = True
        return now[0]

    calls = []
    monkeypatch.setattr(peaks.time, "perf_counter", clock)
    rate = peaks._best_rate(lambda: calls.append(1), work=10.0, min_s=0.0)
    assert rate == pytest.approx(10.0 / 0.2)
    assert len(calls) == 4  # one untimed warm-up + the three timed calls


def test_peak_gflops_picks_the_peak_of_the_jobs_device_and_precision():
    machine = {
        "numpy_fp32_gemm_gflops": 280.0,
        "tf_fp32_matmul_gflops": 209.0,
        "tf_bf16_matmul_gflops": 1286.0,
        "gpu": {
            "name": "/physical_device:GPU:0",
            "float32_matmul_gflops": 50_000.0,
            "float16_matmul_gflops": 400_000.0,
        },
    }
    assert peaks.peak_gflops(machine, "cpu", "fp32") == (280.0, "float32 GEMM (NumPy BLAS)")
    assert peaks.peak_gflops(machine, "cpu", "fp32", "keras") == (
        209.0,
        "float32 matmul (TensorFlow)",
    )
    assert peaks.peak_gflops(machine, "cpu", "bf16") == (1286.0, "bfloat16 matmul (TensorFlow)")
    assert peaks.peak_gflops(machine, "gpu", "fp16")[0] == 400_000.0
    assert peaks.peak_gflops(machine, "gpu", "bf16")[0] is None  # not measured on that GPU
    assert peaks.peak_gflops(machine, "cpu", "fp16")[0] is None
    assert peaks.peak_gflops({"error": "failed"})[0] is None
    assert peaks.peak_gflops(None)[0] is None
    assert peaks.peak_gflops({"numpy_fp32_gemm_gflops": float("nan")})[0] is None
    assert peaks.peak_gflops({"numpy_fp32_gemm_gflops": 0})[0] is None


def test_the_cache_keeps_one_entry_per_thread_count_and_refuses_old_or_broken_files(machine_dir):
    from bench.core import hardware

    fid = hardware.cached()["id"]
    one = {
        "version": peaks.VERSION,
        "fingerprint": fid,
        "threads": 1,
        "measured_at": "2026-12-01T00:00:00+00:00",
        "numpy_fp32_gemm_gflops": 100.0,
    }
    two = {**one, "threads": 2, "numpy_fp32_gemm_gflops": 190.0}
    peaks.store(one)
    path = peaks.store(two)
    assert path == machine_dir / f"{fid}.json"
    assert peaks.cached(1)["numpy_fp32_gemm_gflops"] == 100.0
    assert peaks.cached(2)["numpy_fp32_gemm_gflops"] == 190.0
    assert peaks.cached(4) is None
    assert peaks.cached(2, fingerprint_id="0" * 12) is None
    data = json.loads(path.read_text())
    data["entries"]["2"]["version"] = peaks.VERSION - 1  # measured by an older method
    path.write_text(json.dumps(data))
    assert peaks.cached(2) is None and peaks.cached(1) is not None
    path.write_text("{not json")
    assert peaks.cached(1) is None
    assert (
        peaks.store(one) == path and peaks.cached(1)["numpy_fp32_gemm_gflops"] == 100.0
    )  # rewritten whole


class _Keras:
    name, precisions = "cnn-small", ("fp32", "bf16", "fp16")


class _Sklearn:
    name = "logreg"


def test_precision_rules_refuse_what_the_model_device_or_processor_cannot_do():
    precision.check(("fp32",), [_Sklearn], "cpu", False, flags=[])
    precision.check(("fp32", "bf16"), [_Keras], "cpu", False, flags=["avx512_bf16"])
    precision.check(("bf16",), [_Keras], "cpu", False, flags=["amx_bf16"])
    cases = [
        ((("fp64",), [_Keras], "cpu", False, ["avx512_bf16"]), "choose from fp32, bf16, fp16"),
        ((("bf16",), [_Sklearn], "cpu", False, ["avx512_bf16"]), "logreg run in fp32 only"),
        ((("fp16",), [_Keras], "cpu", False, ["avx512_bf16"]), "needs --device gpu"),
        ((("bf16",), [_Keras], "cpu", False, ["avx512f"]), "no bfloat16 instructions"),
        ((("bf16",), [_Keras], "gpu", False, []), "no GPU found"),
    ]
    for args, fragment in cases:
        with pytest.raises(BenchError, match=fragment):
            precision.check(*args[:4], flags=args[4])
    precision.check(
        ("bf16", "fp16"), [_Keras], "gpu", True, flags=[], capability=8.0
    )  # Ampere: both
    precision.check(("fp16",), [_Keras], "gpu", True, flags=[], capability=7.0)  # Volta: fp16
    with pytest.raises(
        BenchError,
        match="compute capability 7, below the 8 that runs bf16 natively; use fp32 or fp16",
    ):
        precision.check(("bf16",), [_Keras], "gpu", True, flags=[], capability=7.0)
    with pytest.raises(BenchError, match="compute capability 6.1, below the 7"):
        precision.check(("fp16",), [_Keras], "gpu", True, flags=[], capability=6.1)


def _outcome(title, status, seconds, fit_s=None, stages=None):
    rec = (
        {"timing": {"fit_s": fit_s, "stages": stages or {}}}
        if fit_s is not None
        else {"error": "x"}
    )
    return SimpleNamespace(
        job=SimpleNamespace(title=lambda: title), status=status, record=rec, seconds=seconds
    )


def test_overhead_summary_splits_the_wall_into_training_jobs_and_the_rest():
    outs = [
        _outcome(
            "a", "ok", 30.0, 20.0, {"startup": 2.0, "evaluate": 5.0, "save": 1.0, "inference": 3.0}
        ),
        _outcome("b", "diverged", 10.0, 4.0),
        _outcome("c", "failed", 5.0),
    ]
    lines = overhead.summary(outs, suite_wall_s=50.0)
    # training 24 s of a 50 s wall: 26 s rest (52.0%), 45 - 24 = 21 s inside the jobs, 5 s outside
    assert lines[-1] == (
        "  total: wall 50.0s, training (sum of fit_s) 24.0s, rest 26.0s (52.0% of the wall): "
        "21.0s inside the jobs, 5.0s outside them (planning, data checks, leaderboard)"
    )
    assert "rest   10.0s (33.3%): evaluate 5.0s, inference timing 3.0s, start-up 2.0s" in lines[1]
    assert "no training clock" in lines[3]
    assert overhead.summary([], 3.0) == []
    side_by_side = overhead.summary(
        outs, suite_wall_s=20.0
    )  # 45 s of jobs in a 20 s wall: a cluster
    assert side_by_side[-1] == (
        "  total: wall 20.0s for 45.0s of job time side by side (24.0s of it training, "
        "21.0s the jobs' own overhead)"
    )
