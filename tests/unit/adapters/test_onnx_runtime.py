"""``--runtime onnxruntime``: the job dimension, the parity figures and the row label, in
process. The exports themselves (real converters, real ONNX Runtime, fitted models) and the
command are ``tests.integration.test_onnx_runtime``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from bench.adapters import onnx_runtime
from bench.adapters.onnx_export import NotConvertible
from bench.analysis import labels
from bench.core.errors import BenchError
from bench.records import identity
from bench.run import plan
from bench.use import reproduce
from tests.conftest import COMMITTED


def _proba(rows) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


def test_parity_counts_class_changes_and_the_largest_difference_by_hand():
    native = _proba([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5], [0.2, 0.8]])
    served = _proba([[0.8, 0.2], [0.7, 0.3], [0.5, 0.5], [0.2, 0.8]])
    p = onnx_runtime.parity(native, served)
    # image 1 changes class (1 -> 0); image 2 is a tie both times (argmax: the first class)
    assert p == {"n": 4, "class_changes": 1, "changed_index": [1], "max_abs_dp": pytest.approx(0.3)}


def test_parity_of_identical_empty_and_non_finite_predictions():
    same = _proba([[0.1, 0.9], [0.6, 0.4]])
    assert onnx_runtime.parity(same, same.copy()) == {
        "n": 2,
        "class_changes": 0,
        "changed_index": [],
        "max_abs_dp": 0.0,
    }
    empty = np.zeros((0, 10))
    assert onnx_runtime.parity(empty, empty) == {
        "n": 0,
        "class_changes": 0,
        "changed_index": [],
        "max_abs_dp": 0.0,
    }
    nan = same.copy()
    nan[0, 1] = np.nan  # no probability at all: the largest possible difference, 1
    assert onnx_runtime.parity(same, nan)["max_abs_dp"] == 1.0
    with pytest.raises(ValueError, match="shapes"):
        onnx_runtime.parity(same, same[:1])


def _plan(runtimes, device="cpu", models=("logreg", "mlp")):
    return plan.plan(list(models), ["digits"], "quick", device, [0], [], True, runtimes=runtimes)


def test_each_runtime_is_one_more_job_and_another_configuration():
    jobs = _plan(("native", "onnxruntime"))
    assert [(j.model, j.runtime) for j in jobs] == [
        ("logreg", "native"),
        ("logreg", "onnxruntime"),
        ("mlp", "native"),
        ("mlp", "onnxruntime"),
    ]
    native, served = (identity.of_job(j.as_dict(), hw="h") for j in jobs[:2])
    assert native.runtime == "native" and served.runtime == "onnxruntime"
    assert native.key() != served.key()
    assert native.key(without=("runtime",)) == served.key(without=("runtime",))
    assert jobs[1].title() == "logreg onnxruntime on digits (quick, cpu, seed 0)"
    assert jobs[0].title() == "logreg on digits (quick, cpu, seed 0)"
    assert [j.runtime for j in _plan(("native",))] == ["native", "native"]


@pytest.mark.parametrize(
    "runtimes, fragment",
    [
        (
            ("tensorrt",),
            "unknown runtime 'tensorrt' for --runtime; choose from: native, onnxruntime",
        ),
        (("native", "onnx"), "unknown runtime 'onnx'"),
        ((), "unknown runtime '(none)'"),
    ],
)
def test_an_unknown_runtime_is_one_line_naming_the_accepted(runtimes, fragment):
    with pytest.raises(BenchError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        _plan(runtimes)


def test_onnxruntime_is_refused_for_gpu_jobs():
    with pytest.raises(BenchError, match="serves models on the CPU; with --device gpu"):
        _plan(("onnxruntime",), device="gpu")
    with pytest.raises(BenchError, match="with --device all"):
        _plan(("native", "onnxruntime"), device="all")


def test_the_default_adapter_has_no_export():
    from bench.adapters import registry
    from bench.adapters.contract import Adapter

    cls = registry.get("logreg")
    adapter = cls(cls.defaults["quick"])
    with pytest.raises(NotConvertible, match="logreg: no ONNX export"):
        Adapter.to_onnx(adapter)  # the contract's default, not logreg's own export


def _committed_logreg() -> dict:
    path = min((COMMITTED / "runs").glob("*-digits-full-logreg-cpu-s0.json"))
    from bench import records

    return records.read(path)


def test_the_row_label_and_the_reproduce_command_name_the_runtime():
    rec = _committed_logreg()
    served = copy.deepcopy(rec)
    served["job"]["runtime"] = "onnxruntime"
    assert "--runtime" not in reproduce.reproduce_command(rec)
    assert "--runtime onnxruntime" in reproduce.reproduce_command(served)
    row = {"identity.runtime": "onnxruntime", "exported.parity.class_changes": 0}
    assert labels._runtime(row) == " runtime=onnxruntime"
    assert labels._runtime({**row, "exported.parity.class_changes": 3}) == (
        " runtime=onnxruntime ⚠ 3 class changes"
    )
    assert labels._runtime({"identity.runtime": "native"}) == ""
    assert labels._runtime({}) == ""
