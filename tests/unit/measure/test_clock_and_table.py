"""The clock times training alone, every column means one thing, tables never mix runs."""

import json

import pytest

from bench import records
from bench.adapters import registry
from bench.run import plan
from tests.conftest import DIGITS_QUICK, run_cli

FAULTS = {"BENCH_EXTRA_MODELS": "tests.fault_adapters"}
FAST = (
    *DIGITS_QUICK,
    "--no-plots",
)


def _run(out, *args, env_extra=None):
    proc = run_cli(  # neither saved models, their cold start nor robustness is looked at here
        "run",
        *args,
        *FAST,
        "--no-save-models",
        "--robustness",
        "off",
        "--out",
        str(out),
        env_extra=env_extra,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return records.read_all(out / "runs")


@pytest.fixture(scope="module")
def logreg_two_seeds(tmp_path_factory):
    """A results folder of logreg on digits with seeds 0 and 1, run once for the module (its
    own data and host-jobs folders). Tests read it, or copy it before they write into it."""
    home = tmp_path_factory.mktemp("logreg-two-seeds")
    env = {"BENCH_DATA_DIR": str(home / "data"), "BENCH_HOST_JOBS_DIR": str(home / "host-jobs")}
    _run(home / "r", "logreg", "--seeds", "2", env_extra=env)
    return home / "r"


@pytest.fixture(scope="module")
def six_families(digits_suite):
    """Every family trained once on digits, each in a fresh worker process (so every
    framework is imported for the first time inside the job, in ``prepare``): model -> record
    (``digits_suite``, shared with the saved-model tests)."""
    return digits_suite[1]


def test_seeds_are_interleaved():
    jobs = plan.plan(["logreg", "svm"], ["digits"], "quick", "cpu", [0, 1], [], has_gpu=False)
    assert [(j.seed, j.model) for j in jobs] == [
        (0, "logreg"),
        (0, "svm"),
        (1, "logreg"),
        (1, "svm"),
    ]


def test_new_model_module_needs_only_register():
    """Every module of the built-in package that defines a model is listed in ``MODULES`` (the
    entry point ``builtin = mnist_bench_models:families`` imports those), and every built-in
    class is registered through that entry point, with the origin saying so."""
    import importlib
    import inspect
    import pkgutil

    import mnist_bench_models as pkg
    from bench.adapters.contract import Adapter

    registry.names()  # the entry points first: they, not these imports, register the built-ins
    defining = set()
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        if any(
            issubclass(c, Adapter)
            and c.__module__ == module.__name__
            and "name" in c.__dict__
            and not inspect.isabstract(c)
            for c in vars(module).values()
            if isinstance(c, type)
        ):
            defining.add(info.name)
    assert defining and defining <= set(pkg.MODULES), sorted(defining - set(pkg.MODULES))
    made = pkg.families()
    assert {c.__module__.rsplit(".", 1)[1] for c in made} == set(pkg.MODULES)
    builtin = {
        n: c for n, c in registry.REGISTRY.items() if c.__module__.startswith(pkg.__name__ + ".")
    }
    assert sorted(builtin) == sorted(c.name for c in made)
    for name, cls in builtin.items():
        assert cls.origin["kind"] == "builtin", (name, cls.origin)
        assert cls.origin["entry_point"] == "builtin = mnist_bench_models:families", (
            name,
            cls.origin,
        )
        assert cls.origin["distribution"].startswith("mnist-bench "), (name, cls.origin)


def test_job_spec_is_self_describing():
    job = plan.Job(
        "logreg",
        "linear",
        "digits",
        "quick",
        "cpu",
        0,
        {"C": 1.0},
        threads=2,
        inference={"large_batch": 10},
    )
    d = job.as_dict()
    assert d["threads"] == 2 and d["inference"] == {"large_batch": 10}
    assert json.loads(json.dumps(d)) == d
