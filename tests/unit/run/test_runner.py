"""The runner and the ``run``/``report``/``list`` commands, end to end in subprocesses."""

import pytest

from bench.core.errors import BenchError
from bench.run import plan, supervise


def test_cpu_jobs_hide_gpus_from_the_child():
    assert supervise.child_env("cpu", 2)["CUDA_VISIBLE_DEVICES"] == "-1"
    assert (
        "CUDA_VISIBLE_DEVICES" not in supervise.child_env("gpu", 2)
        or supervise.child_env("gpu", 2)["CUDA_VISIBLE_DEVICES"] != "-1"
    )
    assert supervise.child_env("cpu", 3)["OMP_NUM_THREADS"] == "3"


def test_set_values_are_typed():
    from bench.adapters import registry

    params = plan.resolve_params(
        registry.get("svm"), "quick", {"C": "3", "n_components": "20", "gamma": "0.01"}
    )
    assert params["C"] == 3.0 and isinstance(params["C"], float)
    assert params["n_components"] == 20 and params["gamma"] == 0.01
    with pytest.raises(BenchError):
        plan.resolve_params(registry.get("svm"), "quick", {"n_components": "2.5"})
