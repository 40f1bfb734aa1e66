"""``compare`` (issue 31): before/after means over the seeds it tests, the seeds left out named,
and one Holm family over the clean and corrupted tables; on hand-edited copies of the committed
quick cnn-small records (no training)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from bench import measure, records
from bench.analysis import compare
from tests.conftest import COMMITTED

BASELINE = COMMITTED / "baselines" / "mnist-quick.json"


@pytest.fixture(scope="module")
def cnn_small() -> dict[int, dict]:
    """seed -> the committed quick cnn-small record the baseline rests on, seeds 0, 1, 2."""
    ids = set(json.loads(BASELINE.read_text())["models"]["cnn-small"]["records"])
    recs = [r for r in records.read_all(COMMITTED / "runs") if r["run_id"] in ids]
    assert len(recs) == 5
    return {int(r["job"]["seed"]): r for r in recs if int(r["job"]["seed"]) < 3}


def worse_by(rec: dict, k: int, tag: str, seed: int | None = None) -> dict:
    """A copy of ``rec`` (own run id) that gets ``k`` more test images wrong: the first ``k``
    images the original gets right; accuracy to match. ``seed`` relabels the copy's seed."""
    out = copy.deepcopy(rec)
    o = out["outcomes"]
    right = np.flatnonzero(measure.correct_mask(o))[:k]
    o["wrong_index"] = sorted([*o["wrong_index"], *map(int, right)])
    o["wrong_predicted"] = [-1] * len(o["wrong_index"])  # -1: no digit, wrong whatever the label
    out["metrics"]["accuracy"] = 1 - len(o["wrong_index"]) / o["n"]
    out["run_id"] = f"{rec['run_id']}{tag}"
    if seed is not None:
        out["job"]["seed"] = seed
    return out


def write(folder: Path, recs) -> Path:
    for r in recs:
        records.write(folder, r)
    return folder


def row(stdout: str, section: int = 0) -> list[str]:
    """The cells of the cnn-small row of the ``section``-th accuracy table."""
    part = stdout.split("### corrupted test sets")[section]
    line = next(x for x in part.splitlines() if x.startswith("| cnn-small"))
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_means_over_common_seeds_with_seeds_left_out_on_both_sides(cnn_small):
    before = {s: cnn_small[s] for s in (0, 1)}
    after = {1: worse_by(cnn_small[1], 5, "x"), 2: worse_by(cnn_small[2], 0, "y")}
    c = compare.paired_change(("k",), before, after)
    assert c.before == cnn_small[1]["metrics"]["accuracy"]
    assert c.after == pytest.approx(cnn_small[1]["metrics"]["accuracy"] - 5 / 10000)
    assert c.seeds == (1,) and (c.won, c.lost) == (0, 5)
    assert c.note == "seed 0 of before not in after; seed 2 of after not in before"
    assert compare.left_out({0: {}, 1: {}}, {0: {}, 1: {}}) == ""


def test_no_seed_in_common_is_not_comparable_and_shows_every_seed(cnn_small):
    before = {0: cnn_small[0]}
    after = {1: cnn_small[1], 2: cnn_small[2]}
    c = compare.paired_change(("k",), before, after)
    assert c.p is None and c.verdict == "not comparable" and c.seeds == ()
    assert c.before == cnn_small[0]["metrics"]["accuracy"]
    assert c.after == pytest.approx(
        (cnn_small[1]["metrics"]["accuracy"] + cnn_small[2]["metrics"]["accuracy"]) / 2
    )
    assert c.note.startswith("no seed in common") and "seeds 1, 2 of after not in before" in c.note


def _change(p: float | None, direction: int = -1) -> compare.Change:
    from bench.analysis import stats

    c = compare.Change(("k",), 0.9, 0.8)
    if p is not None:
        c.p = p
        c.paired = stats.Paired((0,), 0, 9, p, (), direction, False)
    return c


def test_one_holm_family_over_clean_and_corrupted_counting_only_what_was_tested():
    # by hand, Holm over {0.03, 0.04}: sorted 0.03 x 2 = 0.06, then max(0.06, 0.04 x 1) = 0.06
    clean, corrupted = [_change(0.03), _change(None)], [_change(0.04), _change(None)]
    assert compare.decide(clean) == 1 and clean[0].verdict == "worse"  # alone: 0.03 < 0.05
    assert compare.decide(clean, corrupted) == 2
    assert clean[0].p_holm == pytest.approx(0.06) and corrupted[0].p_holm == pytest.approx(0.06)
    assert clean[0].verdict == corrupted[0].verdict == "no significant change"
    assert clean[1].verdict == corrupted[1].verdict == "not comparable" and clean[1].p_holm is None
    # 0.01 and 0.04: 0.02, then max(0.02, 0.04) = 0.04: both hold in the family of two
    clean, corrupted = [_change(0.04)], [_change(0.01, +1)]
    compare.decide(clean, corrupted)
    assert (clean[0].p_holm, corrupted[0].p_holm) == (pytest.approx(0.04), pytest.approx(0.02))
    assert (clean[0].verdict, corrupted[0].verdict) == ("worse", "better")
    assert compare.decide([], []) == 0


def _fog_worse(rec: dict, k: int, tag: str) -> dict:
    """A copy of ``rec`` wrong on fog for ``k`` more base images it got right (everything
    else the same): per base image d = -1 on exactly those ``k``."""
    out = copy.deepcopy(rec)
    fog = out["robustness"]["corruptions"]["fog"]["outcomes"]
    right = np.flatnonzero(measure.correct_mask(fog))[:k]
    fog["wrong_index"] = sorted([*fog["wrong_index"], *map(int, right)])
    fog["wrong_predicted"] = [-1] * len(fog["wrong_index"])
    out["run_id"] = f"{rec['run_id']}{tag}"
    return out
