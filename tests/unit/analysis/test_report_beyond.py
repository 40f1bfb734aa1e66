"""The leaderboard's robustness, calibration, memory and cold-start columns, sections and
figures (issue 22), from fixture records with those sections added by hand: every number
checked against one worked out here."""

import copy
import json
import re
import types
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from bench import records
from bench.analysis import robustness, rowstats, uncertainty
from bench.data import recorded
from bench.measure import memory
from bench.publish import leaderboard as report
from bench.publish import sections, tables
from bench.publish.charts import data as chart_data
from tests.helpers import joined_table, markdown_cells
from tests.unit.analysis.test_uncertainty import ols_cluster_se, wilson_by_hand
from tests.unit.publish.test_report import FIXTURES, expected_px, png_size

NAMES = robustness.MNIST_C
DIGEST = "ab" * 32
RUNS = {
    "logreg": (
        "20261124T082303Z-e76bad03-digits-quick-logreg-cpu-s0.json",
        "20261124T082316Z-bc49ca5f-digits-quick-logreg-cpu-s1.json",
    ),
    "cnn": (
        "20261124T082306Z-e984d399-digits-quick-cnn-small-cpu-s0.json",
        "20261124T082319Z-90b69324-digits-quick-cnn-small-cpu-s1.json",
    ),
    "xgboost": ("20261124T082339Z-0f4f6d4e-digits-quick-xgboost-cpu-s0.json",),
}
CNN = "cnn-small epochs=3 learning_rate=0.001"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / "runs" / name).read_text())


def bins(filled: dict[int, tuple[int, float, float]]) -> dict:
    """15 bins, ``filled``: bin -> (count, confidence, accuracy); the others empty (null)."""
    return {
        "count": [filled.get(b, (0,))[0] for b in range(15)],
        "confidence": [filled[b][1] if b in filled else None for b in range(15)],
        "accuracy": [filled[b][2] if b in filled else None for b in range(15)],
    }


def wrong(base: float) -> list[int]:
    """Each corruption's wrong base images: the first 300 * (1 - accuracy) of the 300."""
    return [round(300 * (1 - round(base + 0.01 * i, 4))) for i in range(15)]


def masks_of(base: float) -> np.ndarray:
    """(15 corruptions, 300 base images): right except the first ``wrong`` of each row."""
    return np.arange(300)[None, :] >= np.array(wrong(base))[:, None]


def by_hand(masks: np.ndarray) -> tuple[float, float]:
    """One seed's corrupted interval in percent, worked out independently: statsmodels'
    cluster-robust SE (clusters: base images), t(299) and the Wilson score shape."""
    p = masks.mean()
    se = ols_cluster_se(masks.ravel(), np.tile(np.arange(300), 15))
    h = st.t.ppf(0.975, 299) * se
    low, high = wilson_by_hand(p, p * (1 - p) * (st.norm.ppf(0.975) / h) ** 2)
    return 100 * low, 100 * high


def robustness_section(base: float, low: float, high: float, clean: float) -> dict:
    acc = [round(base + 0.01 * i, 4) for i in range(15)]
    return {
        "suite": "mnist-c",
        "digest": DIGEST,
        "n_per_corruption": 300,
        "n_corruptions": 15,
        "seed": 0,
        "corruptions": {
            n: {
                "accuracy": a,
                "low": a - 0.02,
                "high": a + 0.02,
                "outcomes": {
                    "test_digest": f"x:{n}",
                    "n": 300,
                    "wrong_index": list(range(k)),
                    "wrong_predicted": [0] * k,
                },
            }
            for n, a, k in zip(NAMES, acc, wrong(base))
        },
        "mean_accuracy": float(np.mean(acc)),
        "mean_low": low,
        "mean_high": high,
        "clean_accuracy": clean,
    }


def sections_of(
    rob: dict,
    ece: float,
    brier: float,
    filled: dict,
    train_peak: float,
    before: float,
    load_s: float,
) -> dict:
    return {
        "robustness": rob,
        "calibration": {"ece": ece, "brier": brier, "n_bins": 15, "n": 359, "bins": bins(filled)},
        "memory": {
            "before_train_mb": before,
            "train_peak_mb": train_peak,
            "inference_peak_mb": before + 100,
            "method": memory.KERNEL,
        },
        "cold_start": {
            "load_s": load_s,
            "read_s": load_s - 0.01,
            "first_predict_s": 0.01,
            "process_s": load_s + 0.4,
        },
    }


# logreg: both seeds identical (the same predictions); cnn: two seeds that differ; xgboost: none of it
SECTIONS = {
    ("logreg", 0): sections_of(
        robustness_section(0.80, 0.84, 0.89, 0.95),
        0.012,
        0.081,
        {14: (300, 0.98, 0.97), 10: (59, 0.7, 0.8)},
        512.4,
        400.0,
        0.5,
    ),
    ("cnn", 0): sections_of(
        robustness_section(0.60, 0.62, 0.70, 0.80),
        0.05,
        0.30,
        {14: (100, 0.97, 0.95), 13: (20, 0.9, 0.8)},
        1650.1,
        900.0,
        3.2,
    ),
    ("cnn", 1): sections_of(
        robustness_section(0.66, 0.68, 0.76, 0.82),
        0.07,
        0.34,
        {14: (50, 0.99, 1.0), 12: (10, 0.83, 0.7)},
        1700.3,
        910.0,
        3.6,
    ),
}
SECTIONS[("logreg", 1)] = {
    **copy.deepcopy(SECTIONS[("logreg", 0)]),
    "cold_start": {"load_s": 0.7, "read_s": 0.69, "first_predict_s": 0.01, "process_s": 1.1},
}


def build(drop: tuple = ()) -> list[dict]:
    """The five ok fixture records with the sections above (less those named in ``drop`` as
    (model, seed, section))."""
    out = []
    for model, files in RUNS.items():
        for seed, name in enumerate(files):
            rec = fixture(name)
            for section, value in SECTIONS.get((model, seed), {}).items():
                if (model, seed, section) not in drop:
                    rec[section] = copy.deepcopy(value)
            out.append(rec)
    return out


def table(recs):
    group = rowstats.groups(records.load(".", recs=recs))[0]
    rows = rowstats.row_stats(group)
    return (
        group,
        rows,
        {r["model"].replace(" ⚠", ""): r for r in tables.table_rows(rows, bold=False)},
    )


@pytest.fixture(scope="module")
def built():
    return table(build())


def test_flatten_keeps_the_two_dicts_whole():
    assert {"robustness.corruptions", "calibration.bins"} <= records.KEEP_WHOLE
    df = records.load(".", recs=build())
    assert isinstance(df["robustness.corruptions"].dropna().iloc[0], dict)
    assert isinstance(df["calibration.bins"].dropna().iloc[0], dict)


def test_corrupted_column_interval_over_differing_seeds(built):
    _, rows, cells = built
    s0, s1 = masks_of(0.60), masks_of(0.66)
    assert (100 * s0.mean(), 100 * s1.mean()) == pytest.approx((67.0, 73.0))
    sd = float(np.sqrt(((67 - 70) ** 2 + (73 - 70) ** 2) / 1))
    ci = uncertainty.accuracy_interval({0: s0, 1: s1})  # the seeds' outcomes, base images the unit
    assert (
        cells[CNN]["corrupted % (95% CI)"]
        == f"70.00 ± {sd:.2f} ({100 * ci.low:.2f}–{100 * ci.high:.2f})"
    )
    cnn = next(r for r in rows if r.model == "cnn-small")
    assert cnn.robustness.interval == "base image" and cnn.robustness.ci.n_seeds == 2
    # two seeds 6 points apart: wider than either seed's interval alone, and over both seeds' means
    assert cnn.robustness.low < min(by_hand(s0)[0], 67) and cnn.robustness.high > max(
        by_hand(s1)[1], 73
    )


def test_corrupted_column_identical_seeds_is_one_seeds_interval(built):
    _, rows, cells = built
    # logreg: 80..94 % -> mean 87; the same predictions every seed: no std, one seed's interval
    low, high = by_hand(masks_of(0.80))
    assert cells["logreg"]["corrupted % (95% CI)"] == f"87.00 ({low:.2f}–{high:.2f})"
    assert next(r for r in rows if r.model == "logreg").robustness.interval == "base image"
    assert cells["xgboost max_bin=64 n_estimators=5"]["corrupted % (95% CI)"] == "-"


def test_corrupted_outcomes_that_contradict_the_accuracy_are_not_used():
    recs = build()
    for rec in recs:
        for c in (rec.get("robustness") or {}).get("corruptions", {}).values():
            c["outcomes"]["wrong_index"], c["outcomes"]["wrong_predicted"] = (
                [],
                [],
            )  # "all right", yet 60-94 %
    _, rows, _ = table(recs)
    rb = next(r for r in rows if r.model == "logreg").robustness
    assert "no per-image outcomes" in rb.ci.method and rb.low < 87 < rb.high


def test_base_images_writers_only_for_mnist():
    from bench.data import corrupted, writers
    from bench.data.sampling import stratified_subset

    labels = writers.mnist_test().label
    full = corrupted.base_indices(labels, corrupted.N_BASE)
    assert np.array_equal(robustness.base_indices(writers.MNIST_TEST_DIGEST, 2000), full)
    sub = robustness.base_indices(writers.MNIST_TEST_DIGEST, 500)
    assert (
        np.array_equal(sub, full[stratified_subset(labels[full], 500, seed=0)]) and len(sub) == 500
    )
    assert (
        robustness.base_indices("ab" * 32, 300) is None
        and robustness.base_indices(writers.MNIST_TEST_DIGEST, 2001) is None
    )


def test_ece_memory_and_load_columns(built):
    _, _, cells = built
    assert cells["logreg"]["ECE %"] == "1.20"  # identical seeds: no ± 0.00
    assert cells[CNN]["ECE %"] == f"6.00 ± {np.sqrt(2 * 1.0**2):.2f}"  # 5 and 7 %: std sqrt(2)
    peak = (1650.1 + 1700.3) / 2
    assert cells[CNN]["train peak MB"] == f"{peak:,.0f} ± {abs(1700.3 - 1650.1) / np.sqrt(2):,.0f}"
    assert cells["logreg"]["train peak MB"] == "512 ± 0"
    assert (
        cells["logreg"]["load s"] == f"0.60 ± {0.2 / np.sqrt(2):.2f}"
    )  # cold start differs even when predictions don't
    assert cells[CNN]["load s"] == "3.40 ± 0.28"
    for col in ("ECE %", "train peak MB", "load s"):
        assert cells["xgboost max_bin=64 n_estimators=5"][col] == "-"
    headers = list(cells["logreg"])
    assert headers[headers.index("vs best") + 1] == "corrupted % (95% CI)"


def test_best_is_the_lowest_for_ece_memory_and_load():
    group = rowstats.groups(records.load(".", recs=build()))[0]
    md = tables.markdown(rowstats.row_stats(group))
    logreg = next(line for line in md.splitlines() if line.startswith("| logreg "))
    assert "| **1.20** " in logreg and "| **512 ± 0** " in logreg and "| **0.60 ± 0.14** " in logreg
    low, high = by_hand(masks_of(0.80))
    assert f"| **87.00** ({low:.2f}–{high:.2f}) " in logreg


def test_old_records_show_dashes_and_no_new_section():
    md = report.render(records.load(FIXTURES / "runs"), Path("."), None)
    cells = markdown_cells(md, "logreg")
    # corrupted, ECE, no FLOP count for L-BFGS, no peak (% of peak, p50 / FLOP limit), train
    # peak, load; p99: 523 and 463 batch-1 calls, not 1,000
    assert {h for h, c in cells.items() if c == "-"} == {
        "corrupted % (95% CI)",
        "ECE %",
        "train GFLOP/s",
        "% of peak",
        "p50 / FLOP limit",
        "train peak MB",
        "p99 ms",
        "load s",
    }
    assert "Corrupted:" not in md and "Robustness (MNIST-C)" not in md and "Calibration:" not in md


def test_a_seed_without_robustness_is_left_out_not_zero():
    _, rows, cells = table(build(drop=(("cnn", 1, "robustness"),)))
    cnn = next(r for r in rows if r.model == "cnn-small")
    low, high = by_hand(masks_of(0.60))
    assert cells[CNN]["corrupted % (95% CI)"] == f"67.00 ({low:.2f}–{high:.2f})"  # seed 0 alone
    assert cnn.robustness.seeds == 1


def test_csv_and_json_fields(built, tmp_path):
    import pandas as pd

    group, rows, _ = built
    d = {r["model"]: r for r in tables.frame(rows, group)}
    cnn = d["cnn-small"]
    assert cnn["corrupted"] == pytest.approx(70.0) and cnn["corrupted_std"] == pytest.approx(
        np.sqrt(18)
    )
    assert (
        cnn["corrupted_n"] == 300
        and cnn["corrupted_interval"] == "base image"
        and cnn["corrupted_digest"] == DIGEST
    )
    assert cnn["corrupted_clean"] == pytest.approx(81.0)
    assert cnn["corrupted.shot_noise"] == pytest.approx(63.0) and cnn[
        "corrupted.canny_edges"
    ] == pytest.approx(77.0)
    assert cnn["ece"] == pytest.approx(6.0) and cnn["brier"] == pytest.approx(0.32)
    assert cnn["train_peak_mb"] == pytest.approx(1675.2) and cnn[
        "before_train_mb"
    ] == pytest.approx(905.0)
    assert cnn["inference_peak_mb"] == pytest.approx(1005.0) and cnn["load_s"] == pytest.approx(3.4)
    assert d["xgboost"]["corrupted"] is None and d["xgboost"]["corrupted.fog"] is None
    low, high = by_hand(masks_of(0.80))
    assert d["logreg"]["corrupted_low"] == pytest.approx(low) and d["logreg"][
        "corrupted_high"
    ] == pytest.approx(high)
    runs = tmp_path / "runs"
    runs.mkdir()
    for rec in build():
        (runs / f"{rec['run_id']}.json").write_text(json.dumps(rec))
    csv = pd.read_csv(report.publish(runs, tmp_path / "o", fmt="csv"))
    assert {
        "corrupted",
        "corrupted_low",
        "corrupted_high",
        "corrupted_n",
        "ece",
        "ece_std",
        "brier",
        "train_peak_mb",
        "before_train_mb",
        "inference_peak_mb",
        "load_s",
        *(f"corrupted.{n}" for n in NAMES),
    } <= set(csv.columns)
    assert csv.set_index("model").loc["cnn-small", "corrupted_high"] == pytest.approx(
        d["cnn-small"]["corrupted_high"]
    )
    as_json = {
        r["model"]: r
        for r in json.loads(report.publish(runs, tmp_path / "o", fmt="json").read_text())
    }
    assert (
        as_json["logreg"]["corrupted.zigzag"] == pytest.approx(93.0)
        and as_json["xgboost"]["ece"] is None
    )
    tex = report.latex_document(records.load(runs))
    assert (
        "& corrupted \\% (95\\% CI)" in tex
        and f"& 87.00 ({low:.2f}--{high:.2f})" in tex
        and "& 0.60 $\\pm$ 0.14" in tex
    )


def test_robustness_table_and_note(built):
    _, rows, _ = built
    md = sections.robustness_table(rows)
    assert md.count("| model ") == 2  # 19 columns: two tables, each with the model column
    header, body = joined_table(md)
    assert header == ["model", "clean %", "mean %", "drop", *NAMES]
    logreg = body[0]
    # clean 95, mean 87, drop 8; corruptions 80, 81, ..., 94; best of each column in bold
    assert logreg[:4] == ["logreg", "**95.00**", "**87.00**", "8.00"]
    assert logreg[4:] == [f"**{80 + i:.2f}**" for i in range(15)]
    cnn = body[1]
    assert cnn[:4] == [CNN, "81.00", "70.00", "11.00"] and cnn[4] == "63.00" and cnn[-1] == "77.00"
    assert len(body) == 2  # xgboost has no robustness: no row
    assert tables.corrupted_note(rows, 359) == (
        "Corrupted: the 15 MNIST-C corruptions of 300 test images each "
        f"(a fixed stratified subset of the 359; set digest {DIGEST[:12]})."
    )
    assert sections.robustness_table([r for r in rows if r.robustness is None]) is None


def test_reliability_bins_summed_over_seeds(built):
    group, rows, _ = built
    cnn = next(r for r in rows if r.model == "cnn-small")
    b = chart_data.reliability_bins(group, rows)[cnn.key]
    assert b["count"] == [0] * 12 + [10, 20, 150]
    assert b["confidence"][:12] == [None] * 12 and b["accuracy"][:12] == [None] * 12
    assert b["confidence"][14] == pytest.approx((100 * 0.97 + 50 * 0.99) / 150)
    assert b["accuracy"][14] == pytest.approx((100 * 0.95 + 50 * 1.0) / 150)
    assert (b["confidence"][13], b["accuracy"][13]) == pytest.approx(
        (0.9, 0.8)
    )  # seed 1's empty bin weighs 0
    assert (b["confidence"][12], b["accuracy"][12]) == pytest.approx((0.83, 0.7))
    conf, acc = robustness.mean_confidence(b)
    assert conf == pytest.approx(172.8 / 180) and acc == pytest.approx(168 / 180)
    assert not any(
        r.key in chart_data.reliability_bins(group, rows) for r in rows if r.model == "xgboost"
    )
    text = sections.calibration_table(group, rows)
    row = next(line for line in text.splitlines() if line.startswith(f"| {CNN} "))
    assert [c.strip() for c in row.strip("|").split("|")][1:] == [
        "6.00 ± 1.41",
        "0.3200 ± 0.0283",
        "96.00",
        "+2.67",
    ]


def test_reliability_edge_cases():
    import pandas as pd

    empty = bins({})
    assert robustness.mean_confidence(empty) is None
    mixed = pd.DataFrame(
        {
            "calibration.bins": [
                bins({1: (2, 0.1, 0.0)}),
                {"count": [1] * 10, "confidence": [0.5] * 10, "accuracy": [0.5] * 10},
            ]
        }
    )
    assert robustness.reliability(mixed) is None  # 15 bins and 10 bins are never added up
    assert robustness.reliability(pd.DataFrame({"x": [1]})) is None
    assert robustness.ordered(["zigzag", "new_one", "shot_noise"]) == [
        "shot_noise",
        "zigzag",
        "new_one",
    ]


class FakeSet:
    def __init__(self, n: int, digest: str):
        rng = np.random.default_rng(0)
        self.names, self.indices, self.digest = NAMES, np.arange(5, 5 + n), digest
        self.labels = (np.arange(n) * 7 + 3) % 10
        self.images = {name: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for name in NAMES}

    def subset(self, n):
        return FakeSet(n, DIGEST if n == 300 else "other")


def test_every_figure_is_drawn_at_its_size_and_linked(tmp_path):
    x_test = np.zeros((20, 28, 28), np.uint8)
    seen = []

    def loader(dataset, digest, n):
        seen.append((dataset, digest, n))
        return x_test, FakeSet(6, digest)

    md = report.render(
        records.load(".", recs=build()),
        tmp_path,
        tmp_path / "plots",
        lambda d, g: None,
        corrupted_loader=loader,
    )
    assert seen == [("digits", DIGEST, 300)]
    for kind in ("reliability", "robustness", "corruptions"):
        path = tmp_path / "plots" / f"digits-quick-cpu-{kind}.png"
        assert png_size(path) == expected_px(kind), kind
        assert f"(plots/{path.name})" in md
    assert md.index("Corrupted: the 15") < md.index("| model ") and "Robustness (MNIST-C)" in md
    again = tmp_path / "again"
    report.render(
        records.load(".", recs=build()),
        again,
        again / "plots",
        lambda d, g: None,
        corrupted_loader=loader,
    )
    for kind in ("reliability", "robustness", "corruptions"):
        name = f"digits-quick-cpu-{kind}.png"
        assert (tmp_path / "plots" / name).read_bytes() == (again / "plots" / name).read_bytes(), (
            name
        )


def test_no_gallery_when_the_loader_has_no_set(tmp_path):
    md = report.render(
        records.load(".", recs=build()),
        tmp_path,
        tmp_path / "plots",
        lambda d, g: None,
        corrupted_loader=lambda *a: None,
    )
    assert not (tmp_path / "plots" / "digits-quick-cpu-corruptions.png").exists()
    assert "digits-quick-cpu-robustness.png" in md and "corruptions.png" not in md


def test_default_loader_checks_the_digest_and_takes_the_subset(monkeypatch, capsys):
    fake = types.ModuleType("bench.data.corrupted")
    fake.load = lambda x, y, test_digest: FakeSet(400, "whole")
    monkeypatch.setattr(recorded, "corrupted", fake)
    x_test, cset = recorded.corrupted_set("digits", DIGEST, 300)  # the quick profile's subset
    assert cset.digest == DIGEST and len(x_test) == 359
    assert recorded.corrupted_set("digits", "whole", 2000)[1].digest == "whole"
    assert recorded.corrupted_set("digits", "c0ffee", 300) is None
    assert re.search(
        r"warning: no corruption gallery for digits: .*differs", capsys.readouterr().err
    )
