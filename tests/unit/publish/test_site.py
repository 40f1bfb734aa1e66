"""The static site (``python -m bench report --format html``, issue 23) without a browser:
built from real records (the digits fixtures, with a failed and a skipped job, plus the
committed MNIST quick records, which hold robustness and calibration), it shows every row
with the numbers of the Markdown leaderboard, refers to nothing outside itself, gives the
same bytes for the same records, and a failed or refused build leaves the previous site as
it was. The browser checks are ``test_site_browser``."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from bench import records
from bench.analysis import ranking, rowstats
from bench.core.errors import BenchError
from bench.data import recorded
from bench.publish import figures, sections, tables
from bench.publish import leaderboard as report
from bench.publish.charts import define, to_plotly, to_png
from bench.publish.site import build, images, model_page
from bench.publish.site.html import jsonable as html_jsonable
from tests.conftest import COMMITTED, ROOT
from tests.helpers import joined_table

FIXTURES = ROOT / "tests" / "fixtures" / "runs"
RUNS = COMMITTED / "runs"


def committed_records(dataset: str, profile: str) -> list[Path]:
    """The committed records of one dataset and profile, by the record's own ``job`` (a file
    name's ``-mnist-quick-`` also ends ``fashion-mnist-quick``), measured on the hardware of
    the newest of them: one table."""
    from bench.records import identity

    found = []
    for path in sorted(RUNS.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        job = rec.get("job") or {}
        if job.get("dataset") == dataset and job.get("profile") == profile:
            found.append((rec["started_at"], identity.of_record(rec).hardware, path))
    newest = max(found)[1] if found else None
    return [path for _, hw, path in found if hw == newest]


MNIST_QUICK = committed_records("mnist", "quick")


def digits_only(dataset: str, digest: str):
    """The test images of digits (built here from scikit-learn, no download); None for the
    others, as when a dataset cannot be loaded where the site is built."""
    return recorded.test_images(dataset, digest) if dataset == "digits" else None


def make_runs(folder: Path) -> Path:
    """A records folder: the digits fixtures and the committed MNIST quick records."""
    assert MNIST_QUICK, (
        "results/runs has no mnist-quick records: the site tests need their robustness sections"
    )
    folder.mkdir(parents=True, exist_ok=True)
    for path in [*sorted(FIXTURES.glob("*.json")), *MNIST_QUICK]:
        shutil.copy(path, folder / path.name)
    return folder


class Tables(HTMLParser):
    """Every ``<table>`` of a page: its class, header texts and rows (``<tr>`` attributes,
    cells as (text, data-sort or None))."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._in_head = [], None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"class": a.get("class", ""), "headers": [], "rows": []})
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self.tables and not self._in_head:
            self.tables[-1]["rows"].append({"attrs": a, "cells": []})
        elif tag in ("td", "th") and self.tables:
            self._cell = {"text": "", "sort": a.get("data-sort"), "head": self._in_head}

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            text = " ".join(self._cell["text"].split())
            if self._cell["head"]:
                self.tables[-1]["headers"].append(text)
            elif self.tables[-1]["rows"]:
                self.tables[-1]["rows"][-1]["cells"].append((text, self._cell["sort"]))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def parse_tables(path: Path) -> list[dict]:
    p = Tables()
    p.feed(path.read_text(encoding="utf-8"))
    return p.tables


def markdown_cells(md: str) -> list[list[str]]:
    """The body cells of a github-format Markdown table (one the leaderboard split into
    several, joined back), bold marks removed."""
    return [[c.replace("**", "") for c in row] for row in joined_table(md)[1]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("site-runs") / "runs")


@pytest.fixture(scope="module")
def site(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    index = build.publish_site(runs, out, dataset_loader=digits_only)
    assert index == out / "index.html"
    return out


@pytest.fixture(scope="module")
def frame(runs):
    return records.load(runs)


def test_every_row_is_in_its_table_with_the_leaderboards_numbers_and_has_a_page(site, frame):
    summaries = [t for t in parse_tables(site / "index.html") if "summary" in t["class"]]
    gs = [g for g in rowstats.groups(frame) if rowstats.row_stats(g)]
    assert len(summaries) == len(gs) == 2
    for t, g in zip(summaries, gs):
        rows = rowstats.row_stats(g)
        expected = tables.table_rows(rows, bold=True)
        assert t["headers"] == list(expected[0])
        assert [row["attrs"]["data-model"] for row in t["rows"]] == [r.label for r in rows]
        assert [row["attrs"]["data-family"] for row in t["rows"]] == [r.family for r in rows]
        for row, want in zip(t["rows"], expected):
            assert [text for text, _ in row["cells"]] == [
                v.replace("**", "") for v in want.values()
            ]
        accuracy = t["headers"].index("accuracy % (95% CI)")
        assert [float(row["cells"][accuracy][1]) for row in t["rows"]] == [
            r.values["accuracy"] for r in rows
        ]
        for r in rows:
            page = site / "models" / model_page.page_name(g, r)
            assert page.is_file(), page
            assert f"<h1>{html.escape(r.label)}</h1>" in page.read_text(encoding="utf-8")
    assert len(list((site / "models").glob("*.html"))) == sum(
        len(rowstats.row_stats(g)) for g in gs
    )


def test_missing_values_sort_last_and_the_vs_best_column_sorts_by_p(site, frame):
    t = next(t for t in parse_tables(site / "index.html") if "summary" in t["class"])
    g = rowstats.groups(frame)[0]
    rows = rowstats.row_stats(g)
    for row in t["rows"]:
        for text, sort in row["cells"]:
            if text == "-":
                assert sort == "", (text, sort)  # missing: an empty key, last both ways (site.js)
    vs = t["headers"].index("vs best")
    assert [row["cells"][vs][1] for row in t["rows"]] == [
        "" if r.tied is None else repr(1.0 if r.vs_best is None else float(r.p_vs_best))
        for r in rows
    ]


def test_the_other_tables_say_what_the_markdown_says(site, frame):
    """Robustness, calibration, per-class F1 and most-confused pairs: cell for cell the text
    of ``sections`` (the Markdown), for every table that has them."""
    page = parse_tables(site / "index.html")
    seen = 0
    for g in rowstats.groups(frame):
        rows = rowstats.row_stats(g)
        if not rows:
            continue
        labels = [r.label for r in rows]
        md_f1, md_confused = sections.class_tables(g, rows).split("Most confused pairs")
        candidates = [
            t for t in page if [r["attrs"].get("data-model") for r in t["rows"]] == labels
        ]
        bodies = [[[c for c, _ in row["cells"]] for row in t["rows"]] for t in candidates]
        assert markdown_cells(md_f1) in bodies
        assert markdown_cells(md_confused) in bodies
        for md in (sections.robustness_table(rows), sections.calibration_table(g, rows)):
            if md is not None:
                seen += 1
                want = markdown_cells(md)
                assert want in [
                    [[c for c, _ in row["cells"]] for row in t["rows"]] for t in page
                ], md
    assert seen == 2  # the MNIST quick table has both


def test_jobs_without_a_result_are_listed(site, frame):
    """Also those of a table without any ok record (the skipped GPU job is its own table)."""
    shown = [
        t
        for t in parse_tables(site / "index.html")
        if t["headers"] == ["model", "device", "seed", "status", "reason"]
    ]
    cells = [[c for c, _ in row["cells"]] for t in shown for row in t["rows"]]
    want = [
        [c.replace("\\|", "|") for c in row]
        for g in rowstats.groups(frame)
        if not g.without_result().empty
        for row in markdown_cells(sections.problems_table(g.without_result()))
    ]
    assert cells == want
    assert [row[:4] for row in cells] == [
        ["svm", "cpu", "0", "failed"],
        ["xgboost", "gpu", "0", "skipped"],
    ]


def test_a_model_page_per_class_reproduce_and_environment(site, frame):
    """Precision, recall and F1 per class: means over seeds of the records' own numbers,
    worked out here; the reproduce command and the environment of the row's records."""
    g = next(g for g in rowstats.groups(frame) if g.dataset == "digits")
    r = next(r for r in rowstats.row_stats(g) if r.model == "cnn-small")
    page = site / "models" / model_page.page_name(g, r)
    per = next(t for t in parse_tables(page) if t["headers"][:2] == ["class", "precision %"])
    recs = [
        rec for rec in g.ok[g.ok["row.key"] == r.key].sort_values("job.seed")["metrics.per_class"]
    ]
    assert len(recs) == 2
    for c, row in enumerate(per["rows"]):
        mean = {
            m: 100 * (recs[0][str(c)][m] + recs[1][str(c)][m]) / 2
            for m in ("precision", "recall", "f1")
        }
        assert [v for v, _ in row["cells"]] == [
            str(c),
            f"{mean['precision']:.2f}",
            f"{mean['recall']:.2f}",
            f"{mean['f1']:.2f}",
            f"{recs[1][str(c)]['support']:,}",
        ]
        assert float(row["cells"][3][1]) == pytest.approx(mean["f1"], abs=1e-9)
    text = page.read_text(encoding="utf-8")
    assert f"<pre><code>{html.escape(report.reproduce_commands(g, [r])[0])}</code></pre>" in text
    assert "--set cnn-small.epochs=3" in text
    assert html.escape(r.provenance[0]) in text


def test_nothing_refers_outside_the_site(site):
    """No http(s) anywhere but inside plotly's own bundle; every src/href is a file of the
    site, a data: URI or an anchor; plotly.min.js is the installed plotly's, once."""
    from plotly.offline import get_plotlyjs

    files = sorted(p for p in site.rglob("*") if p.is_file())
    for path in files:
        if path.name != "plotly.min.js" and path.suffix in (".html", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            assert "http://" not in text and "https://" not in text, path
    refs = 0
    for page in [p for p in files if p.suffix == ".html"]:
        for _attr, value in re.findall(r'\s(src|href)="([^"]*)"', page.read_text(encoding="utf-8")):
            refs += 1
            if value.startswith(("data:", "#")):
                continue
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//", value), (page, value)
            target = (page.parent / value.split("#")[0]).resolve()
            assert target.is_file() and site.resolve() in target.parents, (page, value)
    assert refs > 50
    assert (site / "assets" / "plotly.min.js").read_text(encoding="utf-8") == get_plotlyjs()
    assert [p.name for p in files if p.suffix == ".js"] == ["plotly.min.js", "site.js"]
    assert sum(p.stat().st_size for p in files) < 15e6


def test_figures_are_json_blocks_with_unique_ids(site):
    ids = []
    for page in [site / "index.html", *sorted((site / "models").glob("*.html"))]:
        text = page.read_text(encoding="utf-8")
        divs = re.findall(r'<div class="chart" id="([^"]+)">', text)
        blocks = re.findall(
            r'<script type="application/json" class="chart-data" data-for="([^"]+)">(.*?)</script>',
            text,
            re.DOTALL,
        )
        assert [b[0] for b in blocks] == divs and len(set(divs)) == len(divs), page
        for _, body in blocks:
            fig = json.loads(body)
            assert fig["data"] and isinstance(fig["layout"], dict)
        ids += [f"{page.name}#{d}" for d in divs]
    index = [i for i in ids if i.startswith("index.html#")]
    assert (
        "index.html#mnist-quick-cpu-pareto" in index
        and "index.html#mnist-quick-cpu-reliability" in index
    )
    assert (
        "index.html#mnist-quick-cpu-robustness" in index
        and "index.html#digits-quick-cpu-tta" in index
    )


def _chart_blocks(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    pattern = (
        r'<script type="application/json" class="chart-data" data-for="([^"]+)">(.*?)</script>'
    )
    return {k: json.loads(v) for k, v in re.findall(pattern, text, re.DOTALL)}


def test_the_site_and_the_leaderboard_draw_one_definition_per_figure(site, frame, tmp_path):
    """The MNIST quick table: each figure of the site's page is ``to_plotly`` of the chart
    ``charts.define`` gives, and the leaderboard's PNG of it is ``to_png`` of the same chart."""
    group = next(g for g in rowstats.groups(frame) if g.dataset == "mnist")
    rows = rowstats.row_stats(group)
    blocks = _chart_blocks(site / "index.html")
    pngs = figures.draw(group, rows, tmp_path / "plots", lambda *a: None, lambda *a: None)
    seen = []
    for key, define_chart in figures.TABLE_CHARTS:
        chart = define_chart(group, rows)
        if chart is None:
            continue
        seen.append(key)
        want = json.loads(json.dumps(html_jsonable(to_plotly.figure(chart)), allow_nan=False))
        assert blocks[f"{group.slug}-{key}"] == want, key
        again = to_png.draw(chart, tmp_path / f"again-{key}.png")
        assert pngs[key].read_bytes() == again.read_bytes(), key
    assert {"pareto", "reliability", "robustness", "f1"} <= set(seen)
    r = rows[0]
    page = _chart_blocks(site / "models" / f"{group.slug}-{r.slug}.html")
    assert page["confusion"] == json.loads(
        json.dumps(html_jsonable(to_plotly.figure(define.confusion(group, r))))
    )


def test_the_mistakes_are_the_records_most_confident_as_png_pixels(site, frame, digits):
    """The logreg page shows its first seed's stored mistakes, first 32, each a PNG whose
    pixels (decoded by Pillow) are 255 - the test image, as the Markdown gallery's gray_r."""
    from PIL import Image

    g = next(g for g in rowstats.groups(frame) if g.dataset == "digits")
    r = next(r for r in rowstats.row_stats(g) if r.model == "logreg")
    first = g.ok[g.ok["row.key"] == r.key].sort_values("job.seed").iloc[0]
    want = first["mistakes"][: figures.GALLERY_SIZE]
    text = (site / "models" / model_page.page_name(g, r)).read_text(encoding="utf-8")
    shown = re.findall(r'<img src="data:image/png;base64,([^"]+)"[^>]*alt="test image (\d+)', text)
    captions = re.findall(r"<figcaption>(\d → \d \(\d\.\d\d\))</figcaption>", text)
    assert [int(i) for _, i in shown] == [m[0] for m in want]
    assert captions == [f"{t} → {p} ({c:.2f})" for _, t, p, c in want]
    for data, i in shown[:3]:
        decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))
        assert np.array_equal(decoded, 255 - digits.x_test[int(i)])
    mnist = next(g for g in rowstats.groups(frame) if g.dataset == "mnist")
    mnist_page = site / "models" / model_page.page_name(mnist, rowstats.row_stats(mnist)[0])
    assert "test images are not available where the site was built" in mnist_page.read_text(
        encoding="utf-8"
    )


def test_png_encoder_edge_cases():
    from PIL import Image

    ramp = np.linspace(0, 1, 12).reshape(3, 4)  # floats in [0, 1]: scaled to 0..255
    decoded = np.asarray(Image.open(io.BytesIO(images.png_gray(ramp))))
    assert decoded.shape == (3, 4) and np.array_equal(
        decoded, np.round(ramp * 255).astype(np.uint8)
    )
    flat = np.arange(16, dtype=np.uint8) * 16  # a flat square, reshaped
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(images.png_gray(flat)))), flat.reshape(4, 4)
    )
    wild = np.array([[-5.0, 300.0], [np.nan, 7.4]])  # not within [0, 1]: clipped, NaN as 0
    assert np.asarray(Image.open(io.BytesIO(images.png_gray(wild)))).tolist() == [[0, 255], [0, 7]]
    assert images.png_gray(ramp) == images.png_gray(ramp.copy())
    with pytest.raises(ValueError, match="2-D"):
        images.png_gray(np.zeros((2, 2, 2)))


def test_ranking_section_and_its_diagram(site, frame):
    rankings, notes = ranking.compute(frame)
    assert (
        rankings and notes
    )  # the corruptions of the MNIST table; across datasets omitted (two datasets)
    text = (site / "index.html").read_text(encoding="utf-8")
    assert '<section id="ranking">' in text
    for note in notes:
        assert f"<li>{html.escape(note)}.</li>" in text
    for r in rankings:
        png = site / "ranking" / f"{r.slug}-cd.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="ranking/{png.name}"' in text
        t = next(
            t
            for t in parse_tables(site / "index.html")
            if t["headers"][:2] == ["model", "average rank"]
        )
        order = sorted(r.models, key=lambda m: (r.average_ranks[m], m))
        assert [row["cells"][0][0] for row in t["rows"]] == order
        assert [row["cells"][1][0] for row in t["rows"]] == [
            f"{r.average_ranks[m]:.2f}" for m in order
        ]


def _files(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failed_build_leaves_the_previous_site_and_no_temporary_folder(
    runs, tmp_path, monkeypatch
):
    out = tmp_path / "site"
    build.publish_site(FIXTURES, out, dataset_loader=digits_only)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model_page, "render", disk_full)
    with pytest.raises(
        BenchError, match=f"cannot write the site into {re.escape(str(out))}: No space left"
    ):
        build.publish_site(runs, out, dataset_loader=digits_only)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".publish.lock", "site"]
    # a build killed between its two renames: the old site renamed away, a half-built folder left
    (tmp_path / ".site.k1.old").mkdir()
    os.replace(out, tmp_path / ".site.k1.old" / "site")
    (tmp_path / ".site.k2.building" / "models").mkdir(parents=True)
    with pytest.raises(BenchError, match="No space left"):
        build.publish_site(runs, out, dataset_loader=digits_only)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".publish.lock", "site"]


class _SummaryColumns(HTMLParser):
    """Per summary table: its id and data-show, and each header's text and data-themes; and
    every column-tabs block's data-for with its buttons' data-show and aria-selected."""

    def __init__(self):
        super().__init__()
        self.tables, self.tabs, self._th = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "summary" in a.get("class", ""):
            self.tables.append({"id": a.get("id"), "show": a.get("data-show"), "columns": []})
        elif tag == "th" and self.tables and "data-themes" in a:
            self._th = [a["data-themes"], ""]
        elif tag == "div" and "column-tabs" in a.get("class", ""):
            self.tabs.append({"for": a.get("data-for"), "buttons": []})
        elif tag == "button" and self.tabs and "data-show" in a:
            self.tabs[-1]["buttons"].append((a["data-show"], a.get("aria-selected")))

    def handle_endtag(self, tag):
        if tag == "th" and self._th is not None:
            self.tables[-1]["columns"].append((" ".join(self._th[1].split()), self._th[0]))
            self._th = None

    def handle_data(self, data):
        if self._th is not None:
            self._th[1] += data


def test_each_summary_table_has_tabs_for_the_themes_of_its_columns(site):
    p = _SummaryColumns()
    p.feed((site / "index.html").read_text(encoding="utf-8"))
    assert p.tables and len(p.tabs) == len(p.tables)
    for t, tabs in zip(p.tables, p.tabs):
        assert tabs["for"] == t["id"] and t["show"] == "accuracy"  # opens on the first theme
        assert tabs["buttons"] == [
            ("accuracy", "true"),
            ("robustness", "false"),
            ("training", "false"),
            ("inference", "false"),
            ("all", "false"),
        ]
        themes = dict(t["columns"])
        # every column in some theme; model and n in all four
        assert all(themes.values())
        assert themes["model"] == themes["n"] == "accuracy robustness training inference"
        assert themes["accuracy % (95% CI)"] == "accuracy robustness"
        assert themes["p50 / FLOP limit"] == themes["load s"] == "inference"
        assert themes["% of peak"] == "training" and themes["ECE %"] == "robustness"
        assert themes["size MB"] == "inference" and themes["params"] == "accuracy"
        tta = next(h for h in themes if h.startswith("time to "))
        assert themes[tta] == "training"
