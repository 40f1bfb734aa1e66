"""``--precision``: a real bf16 Keras job on the digits set forms its own configuration and
row, says so in its label and its reproduce command, and carries the machine's peaks and
its stage timings; precisions a model or this processor cannot run are refused in one line.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.run.test_precision``."""

from __future__ import annotations

import json

from bench.records import identity
from bench.run import precision
from tests.conftest import assert_one_line_error, run_cli
from tests.unit.run.test_precision import both  # noqa: F401 (fixtures)


def test_bf16_is_its_own_configuration_with_its_policy_applied(both):
    out, proc = both
    if not precision.cpu_has_bf16():
        assert_one_line_error(proc, "no bfloat16 instructions")
        assert not (out / "runs").exists()
        return
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = {
        r["job"]["precision"]: r
        for r in (json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json")))
    }
    assert set(recs) == {"fp32", "bf16"}
    fp32, bf16 = recs["fp32"], recs["bf16"]
    assert bf16["env"]["runtime"]["dtype_policy"] == "mixed_bfloat16"
    assert fp32["env"]["runtime"]["dtype_policy"] == "float32"
    assert identity.differences(identity.of_record(fp32), identity.of_record(bf16)) == ["precision"]
    assert bf16["metrics"]["accuracy"] > 0.5  # it learned, in bfloat16
    for rec in (fp32, bf16):
        assert rec["machine"]["numpy_fp32_gemm_gflops"] > 0
        stages = rec["timing"]["stages"]
        assert {"startup", "data_and_build", "evaluate", "inference"} <= set(stages)
        assert all(v >= 0 for v in stages.values())
    # the saved bf16 model loads in a fresh process (its layers keep their policy) and gives
    # exactly the record's figures, as the cold start measured it did
    assert bf16["cold_start"]["load_s"] > 0
    proc = run_cli("evaluate", bf16["run_id"], "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["probe_identical"] is True
    assert result["metrics"]["accuracy"] == bf16["metrics"]["accuracy"]


def test_the_bf16_row_label_and_reproduce_command_name_the_precision(both):
    out, proc = both
    if not precision.cpu_has_bf16():  # the refusal: no row, no leaderboard
        assert proc.returncode == 2 and not (out / "LEADERBOARD.md").exists()
        return
    board = (out / "LEADERBOARD.md").read_text()
    rows = [line for line in board.splitlines() if line.startswith("| cnn-small")]
    assert any(line.startswith("| cnn-small epochs=2 precision=bf16 ") for line in rows), rows
    assert any(
        line.startswith("| cnn-small epochs=2 ") and "precision" not in line for line in rows
    ), rows
    assert "--precision bf16" in board
    assert "overhead (wall time besides training):" in proc.stdout
    assert "total: wall" in proc.stdout


def test_models_without_bf16_are_refused_before_anything_runs(tmp_path):
    proc = run_cli(
        "run", "logreg", "--dataset", "digits", "--precision", "bf16", "--out", str(tmp_path / "r")
    )
    assert_one_line_error(proc, "logreg run in fp32 only")
    proc = run_cli(
        "run", "mlp", "--dataset", "digits", "--precision", "fp16", "--out", str(tmp_path / "r")
    )
    assert_one_line_error(proc, "needs --device gpu")
    proc = run_cli(
        "run", "mlp", "--dataset", "digits", "--precision", "half", "--out", str(tmp_path / "r")
    )
    assert_one_line_error(proc, "choose from fp32, bf16, fp16")
    assert not (tmp_path / "r").exists()
