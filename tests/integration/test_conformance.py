"""``check-adapter`` (``bench.adapters.conformance``): every built-in family keeps the contract,
and each planted defect (``tests/conformance_faults.py``) is reported in one line, by its rule
alone.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_conformance``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.adapters import conformance
from bench.adapters.training_log import TrainingLog
from tests.conftest import ROOT, assert_one_line_error, run_cli
from tests.unit.adapters.test_conformance import (
    BUILTINS,
    FAULTS,
    _failed,
    faults,  # noqa: F401 (fixtures)
)


def test_seed_dependence_behind_uses_seed_false_is_caught(faults):
    class SeedDependent(faults.CentroidAdapter):
        name = "conf-seeded"

        def fit(self, x, y, **kw):
            log = super().fit(x, y, **kw)
            rng = np.random.default_rng(self.prepared["seed"])
            self.means = self.means[rng.permutation(10)]
            return log

    failed = _failed(conformance.check_adapter(SeedDependent))
    assert list(failed) == ["determinism"]
    assert "seeds 0 and 1 (uses_seed is False)" in failed["determinism"]


def test_clock_rows_without_evaluation_apart_fail(faults):
    class NoEval(faults.CentroidAdapter):
        name = "conf-noeval"

        def fit(self, x, y, **kw):
            super().fit(x, y, **kw)
            return TrainingLog("pass", passes=[{"pass": 1, "train_s": 0.0}])

    failed = _failed(conformance.check_adapter(NoEval))
    assert list(failed) == ["clock"]
    assert failed["clock"].startswith("pass 1 of 1: no eval_s")


def test_cli_passes_logreg_and_fails_a_planted_defect():
    proc = run_cli("check-adapter", "logreg", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"ok   {r}" for r in conformance.RULES]

    proc = run_cli("check-adapter", "conf-rowsum", env_extra=FAULTS, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert [line for line in proc.stdout.splitlines() if not line.startswith("ok ")] == [
        "FAIL probabilities: 300 of 300 rows do not sum to 1 (sums 0.5 to 0.5, tolerance 0.0001)"
    ]

    proc = run_cli(
        "check-adapter",
        "conf-peek",
        "--json",
        "--plugin",
        str(ROOT / "tests" / "conformance_faults.py"),
        timeout=300,
    )
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["model"] == "conf-peek" and report["ok"] is False
    assert [f["rule"] for f in report["findings"] if not f["ok"]] == ["test set"]


def test_cli_unknown_model_is_one_error_line():
    assert_one_line_error(
        run_cli("check-adapter", "no-such-model"), "unknown model 'no-such-model'"
    )


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_family_passes(name):
    findings = conformance.check_adapter(name)
    assert _failed(findings) == {}, "\n".join(f.line() for f in findings)
    assert not any(f.skipped for f in findings)
