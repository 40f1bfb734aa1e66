"""``bench compare`` and the paired evidence in leaderboards and the gate, on real digits runs."""

import json
from pathlib import Path

import numpy as np
import pytest

from bench import records
from bench.publish import tables
from tests.conftest import DIGITS_QUICK, ROOT, run_cli

FAST = (
    *DIGITS_QUICK,
    "--no-plots",
)


@pytest.fixture(scope="module")
def before_after(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    for tag, extra in (("a", ()), ("b", ("--set", "logreg.max_iter=2")), ("c", ())):
        proc = run_cli(
            "run",
            "logreg",
            "svm",
            "--seeds",
            "2",
            *FAST,
            *extra,
            "--no-save-models",
            "--out",
            str(root / tag),
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return root


FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"


def _hand_made(folder: Path, wrong_by_seed: dict[int, range], tag: str) -> Path:
    """Copies of the committed logreg digits records, seed s wrong on exactly the test images
    ``wrong_by_seed[s]`` (accuracy to match); everything else as recorded, so both folders
    hold the same configuration."""
    for path in sorted(FIXTURE_RUNS.glob("*-logreg-cpu-s*.json")):
        rec = json.loads(path.read_text())
        seed = int(rec["job"]["seed"])
        if seed not in wrong_by_seed:
            continue
        wrong = list(wrong_by_seed[seed])
        n = rec["outcomes"]["n"]
        rec["outcomes"].update(wrong_index=wrong, wrong_predicted=[0] * len(wrong))
        rec["metrics"]["accuracy"] = 1 - len(wrong) / n
        rec["run_id"] = f"{rec['run_id']}{tag}"
        records.write(folder, rec)
    return folder


def _logreg_line(proc) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return next(line for line in proc.stdout.splitlines() if line.startswith("| logreg"))


def _masks(*pairs, n=100):
    """(best, other): seed s of ``other`` loses pairs[s][0] images to ``best`` and wins pairs[s][1]."""
    best, other = {}, {}
    for s, (lost, won) in enumerate(pairs):
        best[s], other[s] = np.ones(n, bool), np.ones(n, bool)
        other[s][:lost] = False
        best[s][lost : lost + won] = False
    return best, other


def test_leaderboard_and_check_show_seeds_that_disagree():
    from bench.analysis import stats
    from bench.analysis.rowstats import Row, compare_with_best
    from bench.gate import check

    best_m, other_m = _masks(
        (40, 0), (0, 25)
    )  # best: all right on seed 0, wrong on 0..24 on seed 1
    worse_m = {0: np.arange(100) >= 30, 1: np.arange(100) >= 45}  # loses 30 and 20 to the best
    rows = [
        Row(k, "m", k, "f", [0, 1], {"accuracy": acc}, {}, correct=m, test_digest="d")
        for k, acc, m in (
            ("best", 99.0, best_m),
            ("mixed", 98.9, other_m),
            ("worse", 80.0, worse_m),
        )
    ]
    compare_with_best(rows)
    _, mixed, worse = rows
    assert mixed.tied is True and mixed.vs_best.seeds_disagree and mixed.p_vs_best == 1.0
    assert tables.vs_best_text(mixed) == "tied (seeds disagree: +25/-40, p=1.000)"
    assert worse.tied is False and tables.vs_best_text(worse).startswith("worse (+0/-50, p<0.001")
    v = check.Verdict("m", 0.99, 0.989, 0.005, "ok", paired=stats.paired(best_m, other_m))
    row = next(line for line in check.table([v]).splitlines() if line.startswith("| m "))
    assert "p=1.000 (seeds disagree: seed 0 +0/-40 p<0.001, seed 1 +25/-0 p<0.001)" in row
