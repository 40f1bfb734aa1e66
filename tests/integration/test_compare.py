"""``bench compare`` and the paired evidence in leaderboards and the gate, on real digits runs.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.analysis.test_compare``."""

from __future__ import annotations

import json

import numpy as np

from bench import measure, records
from bench.analysis import rowstats
from bench.publish import leaderboard as report
from tests.conftest import assert_one_line_error, run_cli
from tests.unit.analysis.test_compare import (
    _hand_made,
    _logreg_line,
    before_after,  # noqa: F401 (fixtures)
)


def test_compare_finds_a_real_regression_and_exits_1_only_when_asked(before_after):
    a, b = before_after / "a" / "runs", before_after / "b" / "runs"
    proc = run_cli("compare", str(a), str(b))
    assert proc.returncode == 0, proc.stderr
    logreg = next(line for line in proc.stdout.splitlines() if line.startswith("| logreg"))
    svm = next(line for line in proc.stdout.splitlines() if line.startswith("| svm"))
    assert "WORSE" in logreg and "0,1" in logreg
    # the recipe changed between A and B: still paired, saying so, even when the verdict is WORSE
    assert "logreg → logreg max_iter=2" in logreg and "configuration changed: params_hash" in logreg
    assert "no significant change" in svm and "+0 / -0" in svm
    assert run_cli("compare", str(a), str(b), "--fail-on-worse").returncode == 1
    assert (
        run_cli("compare", str(b), str(a), "--fail-on-worse").returncode == 0
    )  # the other way: better
    same = run_cli("compare", str(a), str(before_after / "c" / "runs"), "--fail-on-worse")
    assert same.returncode == 0 and "WORSE" not in same.stdout


def test_compare_refuses_bad_folders_and_names(before_after, tmp_path):
    a = before_after / "a" / "runs"
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_cli("compare", str(a), str(tmp_path / "empty")), "no run records")
    assert_one_line_error(run_cli("compare", str(tmp_path / "nope"), str(a)), "is not a folder")
    assert_one_line_error(
        run_cli("compare", str(a), str(a), "--models", "resnet"), "no records of resnet"
    )


def test_leaderboard_marks_who_is_tied_with_the_best(before_after, tmp_path):
    recs = records.read_all(before_after / "a" / "runs") + records.read_all(
        before_after / "b" / "runs"
    )
    df = records.load(None, recs)
    (group,) = rowstats.groups(df)
    rows = rowstats.row_stats(group)
    assert [r.label for r in rows][0] == "svm" and rows[0].tied is True
    weak = next(r for r in rows if r.label == "logreg max_iter=2")
    assert weak.tied is False and weak.p_vs_best < 0.05 and weak.vs_best.lost > weak.vs_best.won
    md = report.render(df, tmp_path, None)
    assert "| best " in md.replace("  ", " ") or "best" in md
    line = next(x for x in md.splitlines() if x.startswith("| logreg max_iter=2"))
    assert "worse (+" in line
    assert "(" in line.split("|")[4] and "–" in line.split("|")[4]  # the accuracy interval
    labels, matrix = rowstats.pairwise_pvalues(rows)
    assert len(labels) == 3 and matrix.shape == (3, 3) and (matrix == matrix.T).all()


def test_latex_csv_and_json_carry_the_intervals(before_after, tmp_path):
    import json

    import pandas as pd

    runs = before_after / "a" / "runs"
    tex = report.publish(runs, tmp_path, fmt="latex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "$\\pm$" in tex
    frame = pd.read_csv(report.publish(runs, tmp_path, fmt="csv"))
    assert {"accuracy_low", "accuracy_high", "p_vs_best", "tied_with_best", "val_accuracy"} <= set(
        frame.columns
    )
    rows = json.loads(report.publish(runs, tmp_path, fmt="json").read_text())
    assert all(r["accuracy_low"] < r["accuracy"] < r["accuracy_high"] for r in rows)


def test_check_shows_paired_evidence_against_the_baseline_records(before_after, tmp_path):
    base = tmp_path / "digits-quick.json"
    proc = run_cli(
        "baseline",
        "update",
        "--runs",
        str(before_after / "a" / "runs"),
        "--dataset",
        "digits",
        "--baseline",
        str(base),
    )
    assert proc.returncode == 0, proc.stderr
    bad = run_cli(
        "check",
        "--baseline",
        str(base),
        "--runs",
        str(before_after / "b" / "runs"),
        "--baseline-runs",
        str(before_after / "a" / "runs"),
    )
    assert bad.returncode == 1
    row = next(line for line in bad.stdout.splitlines() if line.startswith("| logreg"))
    assert "REGRESSED" in row and "p<0.001" in row
    won, lost = (int(x) for x in row.split("|")[6].strip().lstrip("+").split(" / -"))
    assert lost > 10 * max(won, 1)
    assert "seed-independent: tolerance is the floor" in row  # logreg: every seed the same model
    svm = next(line for line in bad.stdout.splitlines() if line.startswith("| svm"))
    assert "+0 / -0" in svm and "p=1.000" in svm


def test_commands_refuse_unknown_names_and_empty_folders(tmp_path, before_after):
    (tmp_path / "empty").mkdir()
    assert_one_line_error(
        run_cli("report", "--runs", str(tmp_path / "empty"), "--out", str(tmp_path)),
        "no run records",
    )
    assert not (tmp_path / "LEADERBOARD.md").exists()  # nothing rewritten from nothing
    assert_one_line_error(
        run_cli("baseline", "update", "--runs", str(tmp_path / "empty"), "--out", str(tmp_path)),
        "no run records",
    )
    assert_one_line_error(
        run_cli("check", "--runs", str(before_after / "a" / "runs"), "--models", "resnet"),
        "not in the baseline: resnet",
    )
    assert_one_line_error(run_cli("selfcheck", "resnet"), "unknown model 'resnet'")


def test_compare_says_seeds_disagree_instead_of_worse(tmp_path):
    # seed 0 loses 40 images (mid-p 2^-40), seed 1 wins 25 (2^-25): the summed counts (+25 / -40)
    # with the largest p would read "WORSE, p<0.001"; each seed is significant the other way
    a = _hand_made(tmp_path / "a", {0: range(0), 1: range(25)}, "a")
    b = _hand_made(tmp_path / "b", {0: range(40), 1: range(0)}, "b")
    line = _logreg_line(run_cli("compare", str(a), str(b), "--fail-on-worse"))
    assert "WORSE" not in line and "better" not in line and "no significant change" in line
    assert (
        "seeds disagree" in line
        and "seed 0 +0/-40 p<0.001" in line
        and "seed 1 +25/-0 p<0.001" in line
    )
    assert "p=1.000" in line


def test_compare_of_a_tie_prints_p_1(tmp_path):
    a = _hand_made(tmp_path / "a", {0: range(1)}, "a")  # image 0 wrong before, image 1 after
    b = _hand_made(tmp_path / "b", {0: range(1, 2)}, "b")
    line = _logreg_line(run_cli("compare", str(a), str(b)))
    assert "+1 / -1" in line and "p=1.000" in line and "p=0.500" not in line
    assert "no significant change" in line and "seeds disagree" not in line


def test_compare_tests_corrupted_accuracy_paired_over_base_images(before_after):
    """The same pairing for the mean accuracy over the 15 MNIST-C corruptions: logreg cut to
    2 iterations loses on the corrupted sets too, the unchanged SVM does not change."""
    a, b = before_after / "a" / "runs", before_after / "b" / "runs"
    proc = run_cli("compare", str(a), str(b))
    assert proc.returncode == 0, proc.stderr
    section = proc.stdout.split("### corrupted test sets")[1]
    logreg = next(line for line in section.splitlines() if line.startswith("| logreg"))
    svm = next(line for line in section.splitlines() if line.startswith("| svm"))
    assert "WORSE" in logreg and "0,1" in logreg
    assert "no significant change" in svm and "+0 / -0" in svm
    recs_a = {r["job"]["seed"]: r for r in records.read_all(a) if r["job"]["model"] == "logreg"}
    recs_b = {r["job"]["seed"]: r for r in records.read_all(b) if r["job"]["model"] == "logreg"}
    # the before/after columns: the mean over seeds of each record's mean corruption accuracy, by hand
    cells = [c.strip() for c in logreg.strip("|").split("|")]
    for side, recs in ((cells[2], recs_a), (cells[3], recs_b)):
        assert (
            side
            == f"{100 * np.mean([r['robustness']['mean_accuracy'] for r in recs.values()]):.2f}"
        )

    # base images won / lost, by hand from seed 0's outcomes
    def per_image(rec):
        rob = rec["robustness"]
        return sum(
            measure.correct_mask(c["outcomes"]).astype(int) for c in rob["corruptions"].values()
        )

    sa, sb = per_image(recs_a[0]), per_image(recs_b[0])
    sa1, sb1 = per_image(recs_a[1]), per_image(recs_b[1])
    won, lost = int((sb > sa).sum() + (sb1 > sa1).sum()), int((sa > sb).sum() + (sa1 > sb1).sum())
    assert f"+{won} / -{lost}" in logreg
    off = run_cli("compare", str(a), str(b), "--fail-on-worse")
    assert off.returncode == 1


def test_fail_on_worse_fires_on_corrupted_accuracy_alone(before_after, tmp_path):
    """B = A's records with every fog image of logreg's wrong: clean accuracy unchanged,
    corrupted accuracy worse, so --fail-on-worse exits 1 on the corrupted table alone."""
    a = before_after / "a" / "runs"
    b = tmp_path / "runs"
    b.mkdir()
    for path in a.glob("*.json"):
        rec = json.loads(path.read_text())
        if rec["job"]["model"] == "logreg" and rec["status"] == "ok":
            rob = rec["robustness"]
            fog = rob["corruptions"]["fog"]
            n = fog["outcomes"]["n"]
            fog["outcomes"]["wrong_index"] = list(range(n))
            fog["outcomes"]["wrong_predicted"] = [-1] * n  # no prediction: wrong whatever the label
            fog["accuracy"] = 0.0
            rob["mean_accuracy"] = float(
                np.mean([c["accuracy"] for c in rob["corruptions"].values()])
            )
        (b / path.name).write_text(json.dumps(rec))
    proc = run_cli("compare", str(a), str(b), "--fail-on-worse")
    clean, corrupted = proc.stdout.split("### corrupted test sets")
    assert "WORSE" not in clean and "WORSE" in next(
        line for line in corrupted.splitlines() if line.startswith("| logreg")
    )
    assert proc.returncode == 1, proc.stdout
    assert run_cli("compare", str(a), str(b)).returncode == 0  # without the flag: a report, exit 0
