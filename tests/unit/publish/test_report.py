"""Leaderboards and figures from stored records only (fixtures: real digits runs).

The golden file is the reviewed rendering of ``tests/fixtures/runs``. After an intended
change to the layout, regenerate it with:

    python -c "from pathlib import Path; from bench import records; from bench.publish import leaderboard as report; \\
      Path('tests/fixtures/LEADERBOARD.golden.md').write_text(report.render( \\
      records.load(Path('tests/fixtures/runs')), Path('.'), None))"
"""

import json
import re
import struct
from pathlib import Path

import pytest

from bench import records
from bench.publish import leaderboard as report
from bench.publish import plots, sections
from bench.publish.charts import data as chart_data
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def expected_px(kind):
    w, h = plots.FIGSIZES[kind]
    return round(w * plots.DPI), round(h * plots.DPI)


@pytest.fixture(scope="module")
def fixture_frame():
    return records.load(FIXTURES / "runs")


def test_golden_markdown(fixture_frame):
    assert (
        report.render(fixture_frame, Path("."), None)
        == (FIXTURES / "LEADERBOARD.golden.md").read_text()
    )


def test_failures_and_skips_are_listed_not_dropped(fixture_frame):
    md = report.render(fixture_frame, Path("."), None)
    assert re.search(r"\| svm +\| cpu +\| 0 +\| failed +\| InvalidParameterError", md)
    assert re.search(r"\| xgboost +\| gpu +\| 0 +\| skipped +\| no GPU found", md)
    assert "| svm " not in md.split("Jobs without a result")[0].split("Per-class")[0]


def test_seeds_are_aggregated_and_best_marked(fixture_frame):
    md = report.render(fixture_frame, Path("."), None)
    row = next(line for line in md.splitlines() if line.startswith("| cnn-small "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # the parameters that differ from today's quick defaults (the fixtures predate issue 15's recipes)
    assert cells[0] == "cnn-small epochs=3 learning_rate=0.001"
    assert cells[2] == "2" and " ± " in cells[3] and "–" in cells[3]  # mean ± std (t-interval)
    best = next(line for line in md.splitlines() if line.startswith("| logreg "))
    best_cells = [c.strip() for c in best.strip("|").split("|")]
    assert best_cells[3].startswith("**") and best_cells[4] == "best"  # highest accuracy in bold
    assert best_cells[2] == "2 (identical)"


def test_publish_draws_every_figure_at_its_size_and_links_them(tmp_path):
    out = tmp_path / "results"
    path = report.publish(FIXTURES / "runs", out)
    md = path.read_text()
    links = re.findall(r"\((plots/[^)]+\.png)\)", md)
    assert links
    for link in links:
        assert (out / link).stat().st_size > 5000, link
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert "digits-quick-cpu-pareto.png" in pngs and "digits-quick-cpu-f1.png" in pngs
    assert "digits-quick-cpu-pvalues.png" in pngs
    assert "digits-quick-cpu-tta.png" in pngs  # validation accuracy against training seconds
    for model in (
        "logreg",
        "cnn-small-epochs-3-learning-rate-0.001",
        "xgboost-max-bin-64-n-estimators-5",
    ):
        assert f"digits-quick-cpu-{model}-confusion.png" in pngs
        assert f"digits-quick-cpu-{model}-mistakes.png" in pngs
    assert "digits-quick-cpu-cnn-small-epochs-3-learning-rate-0.001-curves.png" in pngs
    assert (
        "digits-quick-cpu-xgboost-max-bin-64-n-estimators-5-curves.png" in pngs
    )  # per-round validation curves
    assert "digits-quick-cpu-logreg-curves.png" not in pngs
    for name in pngs:
        kind = next(
            k
            for k in (
                "pareto",
                "f1",
                "pvalues",
                "curves",
                "confusion",
                "mistakes",
                "tta",
                "sweep",
                "gflops",
            )
            if name.endswith(f"-{k}.png")
        )
        assert png_size(out / "plots" / name) == expected_px(
            "gallery" if kind == "mistakes" else kind
        ), name


def test_same_records_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    report.publish(FIXTURES / "runs", a)
    report.publish(FIXTURES / "runs", b)
    assert (a / "LEADERBOARD.md").read_bytes() == (b / "LEADERBOARD.md").read_bytes()
    for png in (a / "plots").glob("*.png"):
        assert png.read_bytes() == (b / "plots" / png.name).read_bytes(), png.name


def test_csv_and_json_formats(tmp_path):
    import pandas as pd

    csv = report.publish(FIXTURES / "runs", tmp_path, fmt="csv")
    frame = pd.read_csv(csv)
    assert set(frame["model"]) == {"logreg", "cnn-small", "xgboost"}
    assert {"accuracy", "accuracy_std", "infer_ips", "p99_ms", "n"} <= set(frame.columns)
    rows = json.loads(report.publish(FIXTURES / "runs", tmp_path, fmt="json").read_text())
    assert {r["model"]: r["n"] for r in rows} == {"logreg": 2, "cnn-small": 2, "xgboost": 1}


def test_pareto_front():
    pts = [(1.0, 99.0), (10.0, 98.0), (5.0, 97.0), (100.0, 92.0), (100.0, 90.0)]
    assert chart_data.pareto_front(pts) == [0, 1, 3]


def test_most_confused_pairs():
    import numpy as np

    cm = np.eye(10, dtype=int) * 100
    cm[4, 9], cm[9, 4], cm[7, 2], cm[3, 5] = 12, 12, 5, 1
    assert sections.most_confused(cm) == [(4, 9, 12), (9, 4, 12), (7, 2, 5)]
