"""The accuracy gate: baselines, verdicts, exit codes; for real on digits and MNIST.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.gate.test_check``."""

from __future__ import annotations

import json

from tests.conftest import assert_one_line_error, run_cli

# what the gate reads is accuracy and speed: no saved models (nor their cold start), no
# corrupted test sets, no figures
LEAN = ("--infer-min-seconds", "0.1", "--no-save-models", "--robustness", "off", "--no-plots")


def test_bad_baselines_exit_2(tmp_path):
    assert_one_line_error(
        run_cli("check", "--baseline", str(tmp_path / "none.json")), "no baseline at"
    )
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_one_line_error(run_cli("check", "--baseline", str(bad)), "corrupt baseline")
    bad.write_text(
        json.dumps(
            {
                "schema": 1,
                "dataset": "digits",
                "profile": "quick",
                "device": "cpu",
                "models": {"logreg": {"accuracy": 7, "tolerance": 0.01}},
            }
        )
    )
    assert_one_line_error(run_cli("check", "--baseline", str(bad)), "corrupt baseline")


def test_gate_on_digits_passes_then_catches_a_deliberate_regression(tmp_path):
    out = tmp_path / "results"
    proc = run_cli(
        "baseline",
        "update",
        "logreg",
        "svm",
        "--dataset",
        "digits",
        "--seeds",
        "2",
        "--out",
        str(out),
        *LEAN,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    base = out / "baselines" / "digits-quick.json"
    assert json.loads(base.read_text())["models"]["svm"]["n"] == 2
    assert_one_line_error(
        run_cli("check", "--baseline", str(base), "--runs", str(tmp_path / "empty")), "run records"
    )
    ok = run_cli("check", "--baseline", str(base), "--runs", str(out / "runs"))
    assert ok.returncode == 0 and "PASS" in ok.stdout, ok.stdout
    fresh = run_cli(
        "check",
        "--baseline",
        str(base),
        "--run",
        "--out",
        str(tmp_path / "c1"),
        *LEAN,
    )
    assert fresh.returncode == 0, fresh.stdout[-2000:]
    bad = run_cli(
        "check",
        "--baseline",
        str(base),
        "--run",
        "--out",
        str(tmp_path / "c2"),
        "--models",
        "logreg",
        "--set",
        "logreg.max_iter=1",
        *LEAN,
    )
    assert bad.returncode == 1, bad.stdout[-2000:]
    row = next(line for line in bad.stdout.splitlines() if line.startswith("| logreg"))
    assert "REGRESSED" in row and "max_iter" in row
    assert "FAIL: logreg" in bad.stdout
