"""Ranking across conditions (bench.analysis.ranking, ranking_plot): the statistics against
values computed by hand from Demšar (2006) and against scipy / scikit-posthocs called
directly; the edge cases (too few conditions, all tied, two models, NaN); the rankings of the
committed records (MNIST-C corruptions) and of frames built from them across three datasets
and two CPUs; the section's Markdown, the diagram's bytes and the leaderboard hook."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs as sp
from scipy import stats as ss

from bench import records
from bench.analysis import ranking, robustness, rowstats
from bench.publish import leaderboard as report
from bench.publish import ranking_plot
from tests.conftest import COMMITTED

RUNS = COMMITTED / "runs"


def demsar_chi2(avg_ranks, n: int) -> float:
    """Demšar's eq.: chi2_F = 12N/(k(k+1)) [sum R_j^2 - k(k+1)^2/4] (no tie correction)."""
    k = len(avg_ranks)
    return 12 * n / (k * (k + 1)) * (sum(r * r for r in avg_ranks) - k * (k + 1) ** 2 / 4)


def test_ranks_by_hand_higher_is_better_ties_averaged():
    scores = [
        [90, 80, 80, 70],
        [50, 60, 70, 80],
        [1, 1, 1, 1],
        [0.1 + 0.2, 0.3, 0.2, 0.4],
    ]  # 0.1 + 0.2 != 0.3 in floats: still a tie
    np.testing.assert_array_equal(
        ranking.condition_ranks(scores),
        [[1, 2.5, 2.5, 4], [4, 3, 2, 1], [2.5, 2.5, 2.5, 2.5], [2.5, 2.5, 4, 1]],
    )
    r = ranking.rank("datasets", "t", ["a", "b", "c", "d"], ["m1", "m2", "m3", "m4"], scores)
    assert r.average_ranks == pytest.approx(
        {"m1": 10 / 4, "m2": 10.5 / 4, "m3": 11 / 4, "m4": 8.5 / 4}
    )


def test_friedman_by_hand_demsar_formula_and_scipy():
    # the same order in all three conditions: R = (1, 2, 3), chi2 = 3 * (14 - 12) = 6, p = exp(-3) (2 d.f.)
    stat, p = ranking.friedman(ranking.condition_ranks([[3, 2, 1], [9, 5, 4], [0.9, 0.8, 0.1]]))
    assert stat == pytest.approx(6.0) and p == pytest.approx(math.exp(-3))
    rng = np.random.default_rng(0)
    scores = rng.normal(90, 3, size=(7, 5))  # no ties
    r = ranking.rank("datasets", "t", list("abcdefg"), list("VWXYZ"), scores)
    assert r.friedman_stat == pytest.approx(demsar_chi2(list(r.average_ranks.values()), 7))
    assert r.friedman_stat == pytest.approx(ss.friedmanchisquare(*scores.T).statistic)
    assert r.friedman_p == pytest.approx(ss.friedmanchisquare(*scores.T).pvalue)
    tied = np.round(scores)  # ties: scipy's tie-corrected statistic, not Demšar's plain formula
    tied[:, 1] = tied[:, 0]
    ref = ss.friedmanchisquare(*tied.T)
    assert ranking.friedman(ranking.condition_ranks(tied)) == pytest.approx(
        (ref.statistic, ref.pvalue)
    )


@pytest.mark.parametrize(
    "k, q",
    [
        (2, 1.960),
        (3, 2.343),
        (4, 2.569),
        (5, 2.728),
        (6, 2.850),
        (7, 2.949),
        (8, 3.031),
        (9, 3.102),
        (10, 3.164),
    ],
)
def test_nemenyi_q_is_demsars_table(k, q):
    assert ranking.nemenyi_q(k) == pytest.approx(
        q, abs=1.5e-3
    )  # the table is rounded to three places


def test_critical_difference_by_hand():
    # Demšar's own example: four classifiers over 14 data sets, CD = 2.569 sqrt(4*5/(6*14)) = 1.25
    assert ranking.critical_difference(4, 14) == pytest.approx(2.569 * math.sqrt(20 / 84), abs=1e-3)
    assert ranking.critical_difference(4, 14) == pytest.approx(1.25, abs=0.005)
    assert ranking.critical_difference(3, 3) == pytest.approx(2.343 * math.sqrt(12 / 18), abs=1e-3)


def test_posthoc_against_scikit_posthocs_by_hand_and_the_cd():
    rng = np.random.default_rng(1)
    scores = rng.normal(95, 2, size=(12, 5)) + np.array([3, 2, 1, 0, -1])  # a real order plus noise
    models = ["a", "b", "c", "d", "e"]
    r = ranking.rank("corruptions", "t", [f"c{i}" for i in range(12)], models, scores)
    direct = sp.posthoc_nemenyi_friedman(scores)
    np.testing.assert_allclose(r.posthoc.to_numpy(), direct.to_numpy(), rtol=1e-12)
    assert list(r.posthoc.index) == models and list(r.posthoc.columns) == models
    se = math.sqrt(5 * 6 / (6 * 12))
    for i, a in enumerate(models):
        for b in models[i + 1 :]:
            diff = abs(r.average_ranks[a] - r.average_ranks[b])
            p = ss.studentized_range.sf(diff / se * math.sqrt(2), 5, np.inf)
            assert r.posthoc.loc[a, b] == pytest.approx(p) == pytest.approx(r.posthoc.loc[b, a])
            assert (r.posthoc.loc[a, b] < 0.05) == (
                diff > r.critical_difference
            )  # the p and the CD agree
    pairs = r.significant_pairs()
    assert pairs and all(r.average_ranks[x] < r.average_ranks[y] and p < 0.05 for x, y, p in pairs)
    assert ("a", "e") in {(x, y) for x, y, _ in pairs}


def test_two_models_friedman_and_nemenyi_by_hand():
    # A wins in all three: ranks (1, 2); chi2 = 6 * 0.5 = 3 (1 d.f.): p = 2 (1 - Phi(sqrt 3)), and Nemenyi's
    # q = 1 / sqrt(2*3/18) = sqrt 3: the range of two normals over sqrt 2 is |Z|, so the same p
    r = ranking.rank("datasets", "t", ["x", "y", "z"], ["A", "B"], [[99, 98], [90, 80], [70, 69]])
    p = 2 * ss.norm.sf(math.sqrt(3))
    assert (r.friedman_stat, r.friedman_p) == pytest.approx((3.0, p))
    assert r.posthoc.loc["A", "B"] == pytest.approx(p, rel=1e-6)
    assert r.critical_difference == pytest.approx(1.960 * math.sqrt(1 / 3), abs=1e-3)


def test_all_tied_is_p_one_not_an_error():
    r = ranking.rank("datasets", "t", ["x", "y", "z"], ["A", "B", "C"], np.full((3, 3), 97.5))
    assert (r.friedman_stat, r.friedman_p) == (0.0, 1.0)
    assert set(r.average_ranks.values()) == {2.0}
    assert (r.posthoc.to_numpy() == 1.0).all() and r.significant_pairs() == []
    assert "no pair is called different" in ranking_plot.posthoc_line(r)


def test_too_few_conditions_or_models_give_reasons():
    one = ranking.rank("datasets", "t", ["mnist"], ["A", "B"], [[1.0, 2.0]])
    assert one == "the records cover one dataset (mnist); it needs three or more"
    two = ranking.rank("datasets", "t", ["mnist", "digits"], ["A", "B"], [[1.0, 2.0], [3.0, 4.0]])
    assert two == "the records cover two datasets (mnist, digits); it needs three or more"
    lone = ranking.rank(
        "datasets", "t", ["x", "y", "z"], ["A", "B"], [[1.0, np.nan], [2.0, 3.0], [3.0, 1.0]]
    )
    assert lone == "one model has a score in every condition; it needs two or more"


def test_a_model_with_a_nan_score_is_left_out_with_a_note():
    scores = [[90, 80, np.nan], [91, 85, 70], [92, 86, 71]]
    r = ranking.rank("corruptions", "t", ["x", "y", "z"], ["A", "B", "C"], scores, note="earlier")
    assert r.models == ["A", "B"] and r.scores.shape == (3, 2)
    assert r.note == "earlier; left out for a missing score: C"
    assert r.average_ranks == {"A": 1.0, "B": 2.0}


def test_largest_complete_prefers_conditions_then_models_then_order():
    scores = {
        "a": {"m1": 1, "m2": 1, "m3": 1},
        "b": {"m1": 1, "m2": 1},
        "c": {"m1": 1, "m2": 1, "m3": 1},
        "d": {"m1": 1, "m3": 1},
    }
    assert ranking.largest_complete(scores) == (
        ["a", "b", "c"],
        ["m1", "m2"],
    )  # abc and acd tie: abc first
    scores["d"]["m2"] = 1
    assert ranking.largest_complete(scores) == (["a", "b", "c", "d"], ["m1", "m2"])
    assert ranking.largest_complete({"a": {"m1": 1}, "b": {"m1": 1}}) is None
    assert (
        ranking.largest_complete({"a": {"m1": 1}, "b": {"m2": 1}, "c": {"m1": 1, "m2": 1}}) is None
    )


def _row(model, label, n, custom=False, acc=95.0):
    return rowstats.Row(
        key=label,
        model=model,
        label=label,
        family="f",
        seeds=list(range(n)),
        values={"accuracy": acc},
        stds={},
        custom=custom,
    )


def test_default_rows_skip_custom_prefer_the_bare_label_then_seeds():
    rows = [
        _row("mlp", "mlp threads=1", 5),
        _row("mlp", "mlp", 1),
        _row("mlp", "mlp epochs=9", 9, custom=True),
        _row("svm", "svm threads=1", 1),
        _row("svm", "svm target=0.99", 3),
        _row("cnn", "cnn lr=1", 3, True),
        _row("xgb", "xgb", 3, acc=None),
        _row("cnn-small", "cnn-small [fashion-mnist recipe] threads=1", 5),
        _row("cnn-small", "cnn-small [fashion-mnist recipe]", 1),
    ]
    picked = ranking.default_rows(rows)
    assert {m: r.label for m, r in picked.items()} == {
        "mlp": "mlp",
        "svm": "svm target=0.99",
        "cnn-small": "cnn-small [fashion-mnist recipe]",
    }


@pytest.fixture(scope="module")
def committed():
    """The committed MNIST records (the other datasets' committed records are ranked with them
    in the leaderboard; here MNIST alone, so that the one-dataset notes are what is tested)."""
    df = records.load(RUNS)
    return df[df["job.dataset"] == "mnist"]


def _corruption_means(model: str, profile: str) -> dict[str, float]:
    """Per corruption, the mean over seeds (newest record each) of the committed records'
    accuracies, read from the JSON files themselves."""
    newest = {}
    for path in sorted(RUNS.glob("*.json")):
        d = json.loads(path.read_text())
        j = d["job"]
        mine = (
            d["status"] == "ok"
            and j["model"] == model
            and j["profile"] == profile
            and j["dataset"] == "mnist"
        )
        if mine and (j["seed"] not in newest or d["started_at"] > newest[j["seed"]]["started_at"]):
            newest[j["seed"]] = d
    per = [d["robustness"]["corruptions"] for d in newest.values()]
    return {n: 100 * float(np.mean([c[n]["accuracy"] for c in per])) for n in per[0]}


def test_corruption_rankings_of_the_committed_records(committed):
    rankings, notes = ranking.compute(committed)
    assert notes == [
        f"ranking across datasets ({p} profile, cpu) omitted: the records cover one dataset (mnist); "
        "it needs three or more"
        for p in ("full", "quick")
    ]
    assert [r.kind for r in rankings] == ["corruptions", "corruptions"]
    quick = next(r for r in rankings if "quick profile" in r.title)
    assert quick.conditions == list(robustness.MNIST_C)
    assert quick.models == ["cnn-deep", "cnn-small", "logreg", "mlp", "svm", "xgboost"]
    expected = _corruption_means("logreg", "quick")
    np.testing.assert_allclose(
        quick.scores[:, quick.models.index("logreg")],
        [expected[n] for n in quick.conditions],
        rtol=1e-12,
    )
    ref = ss.friedmanchisquare(*np.round(quick.scores, 9).T)  # scores equal up to rounding are ties
    assert (quick.friedman_stat, quick.friedman_p) == pytest.approx((ref.statistic, ref.pvalue))
    ranks = np.array([ss.rankdata(-row) for row in np.round(quick.scores, 9)])
    assert quick.average_ranks == pytest.approx(dict(zip(quick.models, ranks.mean(axis=0))))
    assert quick.critical_difference == pytest.approx(2.850 * math.sqrt(6 * 7 / (6 * 15)), abs=1e-3)


def _as_dataset(
    df, name: str, accuracy: dict[str, float], cpu: str | None = None, when: str | None = None
):
    """Records of ``df`` relabelled as dataset ``name`` (own tables and rows), with the given
    accuracy per model (the same for every seed), optionally on another CPU and start time."""
    out = df[df["job.model"].isin(list(accuracy))].copy()
    out["job.dataset"] = name
    suffix = f"|{name}|{cpu or ''}"
    out["identity.table"] = out["identity.table"].astype(str) + suffix
    out["identity.row"] = out["identity.row"].astype(str) + suffix
    out["metrics.accuracy"] = [accuracy[m] for m in out["job.model"]]
    if cpu is not None:
        out["identity.hardware_title"] = cpu
    if when is not None:
        out["started_at"] = when
    return out


def test_dataset_ranking_from_frames_of_three_datasets_and_two_cpus(committed):
    quick = committed[committed["job.profile"] == "quick"]
    models = ["cnn-small", "logreg", "mlp", "svm"]
    a = {"cnn-small": 0.99, "logreg": 0.90, "mlp": 0.97, "svm": 0.98}
    b = {"cnn-small": 0.95, "logreg": 0.91, "mlp": 0.96, "svm": 0.94}
    c = {"cnn-small": 0.93, "mlp": 0.92, "svm": 0.90}  # logreg not on mnist-c
    frames = [
        _as_dataset(quick, "mnist-a", a),
        _as_dataset(quick, "mnist-b", b),
        _as_dataset(quick, "mnist-c", c),
        _as_dataset(
            quick, "mnist-b", {"svm": 0.999}, cpu="Other CPU", when="2099-01-01T00:00:00+00:00"
        ),
    ]
    rankings, notes = ranking.compute(pd.concat(frames, ignore_index=True))
    assert notes == [
        (
            "ranking across corruptions (mnist-b · quick profile · cpu · Other CPU) omitted: one model has "
            "a score in every condition; it needs two or more"
        )
    ]
    assert [r.kind for r in rankings] == ["datasets", "corruptions", "corruptions", "corruptions"]
    (r,) = [r for r in rankings if r.kind == "datasets"]
    assert r.conditions == ["mnist-a", "mnist-b", "mnist-c"] and r.models == [
        "cnn-small",
        "mlp",
        "svm",
    ]
    b = {**b, "svm": 0.999}  # the newest record's table wins across CPUs
    np.testing.assert_allclose(
        r.scores, 100 * np.array([[d[m] for m in r.models] for d in (a, b, c)])
    )
    assert r.average_ranks == pytest.approx({"cnn-small": 5 / 3, "mlp": 7 / 3, "svm": 2.0})
    assert r.note.startswith(
        "left out (not on every dataset ranked): logreg (on mnist-a, mnist-b only); tables "
        "from 2 CPUs pooled"
    )
    assert r.title == "Across datasets · quick profile, cpu" and models[0] in r.models
    assert (r.friedman_stat, r.friedman_p) == pytest.approx(
        (ss.friedmanchisquare(*r.scores.T).statistic, ss.friedmanchisquare(*r.scores.T).pvalue)
    )


def test_section_markdown_and_notes(tmp_path):
    r = ranking.rank(
        "datasets",
        "Across datasets · quick profile, cpu",
        ["x", "y", "z"],
        ["A", "B", "C"],
        [[99, 98, 97], [90, 80, 80], [70, 69, 68]],
        note="C was late",
        slug="ranking-datasets-quick",
    )
    lines = ranking_plot.markdown_lines(
        [r], ["ranking across corruptions omitted: why"], tmp_path, tmp_path / "plots"
    )
    md = "\n".join(lines)
    assert lines[:4] == ["## Ranking across conditions", "", ranking_plot.LEGEND, ""]
    assert "| A       | 1.00           | 99.00 (1) | 90.00 (1)   | 70.00 (1) |" in md
    assert "| C       | 2.83           | 97.00 (3) | 80.00 (2.5) | 68.00 (3) |" in md
    # R = (1, 13/6, 17/6): 3 * (1 + 1/36 + 25/36) = 31/6, over the tie correction 1 - 6/72
    stat = 31 / 6 / (11 / 12)
    assert f"χ²_F = {stat:.2f} (2 d.f.), p={math.exp(-stat / 2):.3f}; it does not reject" in md
    assert "no pair is called different, Friedman not having rejected" in md
    assert "![critical-difference diagram](plots/ranking-datasets-quick-cd.png)" in md
    assert "Note: C was late." in md and md.endswith(
        "Rankings not made:\n\n- ranking across corruptions omitted: why.\n"
    )
    bare = ranking_plot.markdown_lines([r], [], tmp_path, None)
    image = next(i for i, line in enumerate(lines) if line.startswith("!["))
    assert (
        bare == lines[:image] + lines[image + 2 : lines.index("Rankings not made:")]
    )  # no image, no notes
    assert ranking_plot.markdown_lines([], [], tmp_path, None) == []


def test_cd_diagram_is_deterministic_and_sized(tmp_path):
    r = ranking.rank(
        "corruptions",
        "Across the MNIST-C corruptions · t",
        ["x", "y", "z", "w"],
        ["A", "B", "C"],
        [[99, 98, 97], [90, 80, 81], [70, 69, 68], [60, 50, 40]],
        slug="t",
    )
    one, two = (
        ranking_plot.cd_diagram(r, tmp_path / "a.png"),
        ranking_plot.cd_diagram(r, tmp_path / "b.png"),
    )
    assert one.read_bytes() == two.read_bytes()
    head = one.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (
        900,
        round(100 * 2.56),
    )


def test_leaderboard_draws_links_and_keeps_the_diagrams(committed, tmp_path):
    df = committed[
        (committed["job.profile"] == "quick")
        & committed["job.model"].isin(["logreg", "mlp", "svm"])
    ]
    out, drawn = tmp_path / "results", []
    md = report.render(
        df,
        out,
        out / "plots",
        dataset_loader=lambda *a: None,
        drawn=drawn,
        corrupted_loader=lambda *a: None,
    )
    cd = out / "plots" / "mnist-quick-cpu-corruption-ranking-cd.png"
    assert cd in drawn and cd.stat().st_size > 5000
    assert md.index("## Ranking across conditions") > md.index("Reproduce:")
    assert "![critical-difference diagram](plots/mnist-quick-cpu-corruption-ranking-cd.png)" in md
    (out / "plots" / "stale-cd.png").write_bytes(b"x")
    assert (
        report.prune_plots(out / "plots", drawn) == [out / "plots" / "stale-cd.png"]
        and cd.is_file()
    )
