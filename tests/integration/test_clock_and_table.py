"""The clock times training alone, every column means one thing, tables never mix runs.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.measure.test_clock_and_table``."""

from __future__ import annotations

import shutil
import time

import pytest

from bench import records
from bench.adapters import registry
from bench.analysis import rowstats
from bench.publish import leaderboard as report
from tests.conftest import run_cli
from tests.unit.measure.test_clock_and_table import (
    FAST,
    FAULTS,
    _run,
    logreg_two_seeds,  # noqa: F401 (fixtures)
    six_families,  # noqa: F401 (fixtures)
)


@pytest.mark.parametrize("name", registry.DEFAULT_SUITE)
def test_fit_s_is_the_sum_of_the_passes_for_every_family(six_families, name):
    t = six_families[name]["timing"]
    # everything on the training clock is accounted for by the adapter's passes (and its
    # data conversion): imports, graph building and compilation happened in prepare
    assert t["fit_s"] == pytest.approx(t["fit_wall_s"] - t["eval_s"])
    assert abs(t["unaccounted_s"]) <= max(0.25, 0.1 * t["fit_s"]), t
    assert t["fit_s"] == pytest.approx(
        t["setup_s"] + t["pass_train_s"] + t["teardown_s"] + t["unaccounted_s"]
    )
    assert t["prepare_s"] >= 0 and t["passes"] == len(six_families[name]["history"])


@pytest.mark.parametrize("name", ["mlp", "cnn-small", "cnn-deep"])
def test_keras_start_up_is_off_the_clock_and_validation_apart(six_families, name):
    t = six_families[name]["timing"]
    assert (
        t["prepare_s"] > 1.0
    )  # importing TensorFlow and tracing take seconds, none of them on fit_s
    assert t["eval_s"] > 0 and all(p["eval_s"] > 0 for p in six_families[name]["history"])
    assert t["pass_unit"] == "epoch" and t["data_passes"] == t["passes"]


def test_every_column_has_one_meaning(six_families):
    for name, rec in six_families.items():
        t, n = rec["timing"], rec["data"]["n_train"]
        if t["images_processed"] is None:
            assert name == "svm" and t["train_images_per_s"] is None
            continue
        assert t["train_images_per_s"] == pytest.approx(t["images_processed"] / t["fit_s"])
        assert t["data_passes"] == pytest.approx(t["images_processed"] / n)
        if rec["size"]["train_flops_per_image"]:
            assert t["train_gflops_per_s"] == pytest.approx(
                rec["size"]["train_flops_per_image"] * t["train_images_per_s"] / 1e9
            )
        else:
            assert name in ("logreg", "svm", "xgboost") and t["train_gflops_per_s"] is None
    assert (
        six_families["logreg"]["timing"]["data_passes"]
        == six_families["logreg"]["extra"]["iterations"]
    )
    # each boosting round goes over the training set and its shifted copies: images, not rounds
    copies = six_families["xgboost"]["job"]["params"]["shifted_copies"]
    assert copies >= 1 and six_families["xgboost"]["timing"]["data_passes"] == 20 * (1 + copies)
    assert 0 < six_families["svm"]["metrics"]["val_accuracy"] <= 1


def test_records_carry_outcomes_small_enough(six_families):
    for rec in six_families.values():
        o = rec["outcomes"]
        wrong = round((1 - rec["metrics"]["accuracy"]) * o["n"])
        assert len(o["wrong_index"]) == len(o["wrong_predicted"]) == wrong
        assert o["test_digest"] == rec["data"]["test_digest"]


def test_two_parameter_sets_are_two_rows_and_a_seed_free_model_says_so(tmp_path, logreg_two_seeds):
    out = tmp_path / "r"
    shutil.copytree(logreg_two_seeds, out)
    _run(out, "logreg", "--set", "logreg.C=1.0")
    board = (out / "LEADERBOARD.md").read_text()
    rows = [line for line in board.splitlines() if line.startswith("| logreg")][:2]
    labels = sorted(r.split("|")[1].strip() for r in rows)
    assert labels == ["logreg", "logreg C=1"]
    plain = next(r for r in rows if r.split("|")[1].strip() == "logreg")
    cells = [c.strip() for c in plain.strip("|").split("|")]
    assert cells[2] == "2 (identical)" and "±" not in cells[3]  # no "+/- 0.00" posing as stability
    assert "python -m bench run logreg --dataset digits --profile quick --threads" in board
    assert "--set logreg.C=1" in board


def test_seed_dependent_models_show_their_spread(tmp_path):
    recs = _run(tmp_path / "r", "mlp", "--seeds", "2", "--set", "mlp.epochs=2")
    assert recs[0]["metrics"]["log_loss"] != recs[1]["metrics"]["log_loss"]
    board = (tmp_path / "r" / "LEADERBOARD.md").read_text()
    row = next(line for line in board.splitlines() if line.startswith("| mlp"))
    assert "(identical)" not in row and " ± " in row.split("|")[4]


def test_mixed_code_versions_are_flagged_not_averaged_silently(tmp_path, logreg_two_seeds):
    recs = records.read_all(logreg_two_seeds / "runs")
    recs[1]["env"]["commit"] = "0" * 40
    df = records.load(None, recs)
    (group,) = rowstats.groups(df)
    rows = rowstats.row_stats(group)
    assert len(rows[0].provenance) == 2
    md = report.render(df, tmp_path, None)
    assert "logreg ⚠" in md and "from 2 code/library versions" in md and "commit 000000000000" in md


def test_tables_are_split_by_processor_not_by_its_name(logreg_two_seeds):
    from bench.core import hardware

    recs = records.read_all(logreg_two_seeds / "runs")
    same_name = dict(
        recs[1]["env"]["hardware"], stepping=(recs[1]["env"]["hardware"]["stepping"] or 0) + 1
    )
    recs[1]["env"]["hardware"] = hardware.finish(same_name)  # the same model name, another stepping
    titles = [g.title for g in rowstats.groups(records.load(None, recs))]
    assert len(titles) == 2 and titles[0] != titles[1], titles


def test_reproduce_command_carries_every_flag_that_changed_the_run(tmp_path):
    out = tmp_path / "r"
    _run(out, "logreg", "--threads", "1", "--infer-batch", "50", "--deterministic")
    board = (out / "LEADERBOARD.md").read_text()
    cmd = board.split("Reproduce:")[1].split("```")[1].strip()
    assert cmd.startswith("python -m bench run logreg --dataset digits --profile quick --threads 1")
    for flag in ("--infer-batch 50", "--infer-min-seconds 0.05", "--deterministic"):
        assert flag in cmd, cmd
    assert "--infer-min-repeats" not in cmd  # 3 is the quick profile's own minimum: nothing changed


def test_partial_line_and_hang_still_times_out(tmp_path):
    t0 = time.monotonic()  # the timeout leaves a loaded machine time to reach fit's print
    proc = run_cli(
        "run", "fault-partial", *FAST, "--timeout", "15", "--out", str(tmp_path), env_extra=FAULTS
    )
    assert proc.returncode == 1 and time.monotonic() - t0 < 90, proc.stdout
    (rec,) = records.read_all(tmp_path / "runs")
    assert rec["status"] == "timeout" and "half a line" in " ".join(rec["error_detail"])


def test_a_record_written_before_the_deadline_is_the_only_record(tmp_path):
    proc = run_cli(
        "run", "fault-linger", *FAST, "--timeout", "20", "--out", str(tmp_path), env_extra=FAULTS
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    recs = records.read_all(tmp_path / "runs")
    assert [r["status"] for r in recs] == ["ok"]
    assert not [p for p in (tmp_path / "runs").iterdir() if p.suffix != ".json"]


def test_keras_backend_is_pinned_whatever_the_shell_says(tmp_path):
    recs = _run(tmp_path / "r", "mlp", "--set", "mlp.epochs=1", env_extra={"KERAS_BACKEND": "jax"})
    assert recs[0]["status"] == "ok" and recs[0]["env"]["runtime"]["tensorflow"]
