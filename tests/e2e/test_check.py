"""The accuracy gate: baselines, verdicts, exit codes; for real on digits and MNIST.

The end-to-end tests; helpers, fixtures and the unit tests: ``tests.unit.gate.test_check``."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_gate_on_mnist_catches_logreg_with_one_iteration(use_mnist, tmp_path):
    bad = run_cli(
        "check",
        "--run",
        "--out",
        str(tmp_path / "c"),
        "--models",
        "logreg",
        "--set",
        "logreg.max_iter=1",
    )
    assert bad.returncode == 1, bad.stdout[-3000:] + bad.stderr[-2000:]
    assert "REGRESSED" in next(
        line for line in bad.stdout.splitlines() if line.startswith("| logreg")
    )
