"""``bench compare`` and the paired evidence in leaderboards and the gate, on real digits runs."""

import pytest

from bench import records
from bench.report import leaderboard as report
from bench.report import tables
from tests.conftest import assert_one_line_error, run_cli

FAST = ("--dataset", "digits", "--profile", "quick", "--infer-min-seconds", "0.05", "--infer-min-repeats", "3")


@pytest.fixture(scope="module")
def before_after(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    for tag, extra in (("a", ()), ("b", ("--set", "logreg.max_iter=2")), ("c", ())):
        proc = run_cli("run", "logreg", "svm", "--seeds", "2", *FAST, *extra, "--out", str(root / tag))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return root


def test_compare_finds_a_real_regression_and_exits_1_only_when_asked(before_after):
    a, b = before_after / "a" / "runs", before_after / "b" / "runs"
    proc = run_cli("compare", str(a), str(b))
    assert proc.returncode == 0, proc.stderr
    logreg = next(line for line in proc.stdout.splitlines() if line.startswith("| logreg"))
    svm = next(line for line in proc.stdout.splitlines() if line.startswith("| svm"))
    assert "WORSE" in logreg and "0,1" in logreg
    assert "no significant change" in svm and "+0 / -0" in svm
    assert run_cli("compare", str(a), str(b), "--fail-on-worse").returncode == 1
    assert run_cli("compare", str(b), str(a), "--fail-on-worse").returncode == 0  # the other way: better
    same = run_cli("compare", str(a), str(before_after / "c" / "runs"), "--fail-on-worse")
    assert same.returncode == 0 and "WORSE" not in same.stdout


def test_compare_refuses_bad_folders_and_names(before_after, tmp_path):
    a = before_after / "a" / "runs"
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_cli("compare", str(a), str(tmp_path / "empty")), "no run records")
    assert_one_line_error(run_cli("compare", str(tmp_path / "nope"), str(a)), "is not a folder")
    assert_one_line_error(run_cli("compare", str(a), str(a), "--models", "resnet"), "no records of resnet")


def test_leaderboard_marks_who_is_tied_with_the_best(before_after, tmp_path):
    recs = records.read_all(before_after / "a" / "runs") + records.read_all(before_after / "b" / "runs")
    df = records.load(None, recs)
    (group,) = tables.groups(df)
    rows = tables.row_stats(group)
    assert [r.label for r in rows][0] == "svm" and rows[0].tied is True
    weak = next(r for r in rows if r.label == "logreg max_iter=2")
    assert weak.tied is False and weak.p_vs_best < 0.05 and weak.vs_best.lost > weak.vs_best.won
    md = report.render(df, tmp_path, None)
    assert "| best " in md.replace("  ", " ") or "best" in md
    line = next(x for x in md.splitlines() if x.startswith("| logreg max_iter=2"))
    assert "worse (+" in line
    assert "(" in line.split("|")[4] and "–" in line.split("|")[4]  # the accuracy interval
    labels, matrix = tables.pairwise_pvalues(rows)
    assert len(labels) == 3 and matrix.shape == (3, 3) and (matrix == matrix.T).all()


def test_latex_csv_and_json_carry_the_intervals(before_after, tmp_path):
    import json

    import pandas as pd

    runs = before_after / "a" / "runs"
    tex = report.publish(runs, tmp_path, fmt="latex").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "$\\pm$" in tex
    frame = pd.read_csv(report.publish(runs, tmp_path, fmt="csv"))
    assert {"accuracy_low", "accuracy_high", "p_vs_best", "tied_with_best", "val_accuracy"} <= set(frame.columns)
    rows = json.loads(report.publish(runs, tmp_path, fmt="json").read_text())
    assert all(r["accuracy_low"] < r["accuracy"] < r["accuracy_high"] for r in rows)


def test_check_shows_paired_evidence_against_the_baseline_records(before_after, tmp_path):
    base = tmp_path / "digits-quick.json"
    proc = run_cli("baseline", "update", "--runs", str(before_after / "a" / "runs"), "--dataset", "digits",
                   "--baseline", str(base))
    assert proc.returncode == 0, proc.stderr
    bad = run_cli("check", "--baseline", str(base), "--runs", str(before_after / "b" / "runs"),
                  "--baseline-runs", str(before_after / "a" / "runs"))
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
    assert_one_line_error(run_cli("report", "--runs", str(tmp_path / "empty"), "--out", str(tmp_path)),
                          "no run records")
    assert not (tmp_path / "LEADERBOARD.md").exists()  # nothing rewritten from nothing
    assert_one_line_error(run_cli("baseline", "update", "--runs", str(tmp_path / "empty"), "--out", str(tmp_path)),
                          "no run records")
    assert_one_line_error(run_cli("check", "--runs", str(before_after / "a" / "runs"), "--models", "resnet"),
                          "not in the baseline: resnet")
    assert_one_line_error(run_cli("selfcheck", "resnet"), "unknown model 'resnet'")
