"""The static site in a real browser (issue 23): Debian's headless Chromium driven by
Selenium, the pages opened from file:// with every http(s) URL blocked (Chrome DevTools).
No console error, no request but file:// and data:, a click on a header sorts the rows as
Python sorts the same values, the filters hide the rows they should, every figure has drawn
marks and its traces' names in its legend, every image decoded. Screenshots go to
build/test-artifacts/.

The browser is ``chromium`` or ``chromium-browser`` on PATH, the driver ``chromedriver``
(or the programs named by ``BENCH_CHROMIUM`` / ``BENCH_CHROMEDRIVER``). Without either, or
without selenium, the tests skip, saying which is missing; with the environment variable CI
set, or BENCH_REQUIRE_BROWSER=1, they fail instead (CI must run them). One test opens the
committed ``results/site/`` itself."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from bench import records
from bench.analysis import rowstats
from bench.publish.site import build, model_page
from tests.conftest import ROOT
from tests.unit.publish.test_site import digits_only, make_runs

# the published site and the records it is made of: this test checks the committed output
# itself (as `bench report --check` does), so it reads results/, not the tests' frozen copy
COMMITTED_SITE = ROOT / "results" / "site"
COMMITTED_RUNS = ROOT / "results" / "runs"

ARTIFACTS = ROOT / "build" / "test-artifacts"
WAIT_S = 60


def _program(env: str, *names: str) -> str | None:
    """The program the environment variable ``env`` names (a path or a name on PATH), else
    the first of ``names`` on PATH; None when there is none."""
    if os.environ.get(env):
        return shutil.which(os.environ[env])
    return next((found for found in map(shutil.which, names) if found), None)


def _browser() -> tuple[str | None, str | None, list[str]]:
    """(chromium, chromedriver, what is missing)."""
    chromium = _program("BENCH_CHROMIUM", "chromium", "chromium-browser")
    chromedriver = _program("BENCH_CHROMEDRIVER", "chromedriver")
    missing = (
        []
        if chromium
        else [os.environ.get("BENCH_CHROMIUM") or "chromium (or chromium-browser) on PATH"]
    )
    missing += (
        [] if chromedriver else [os.environ.get("BENCH_CHROMEDRIVER") or "chromedriver on PATH"]
    )
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    return chromium, chromedriver, missing


@pytest.fixture(scope="module")
def driver():
    chromium, chromedriver, missing = _browser()
    if missing:
        why = f"no browser to test the site with: missing {', '.join(missing)}"
        if os.environ.get("CI") or os.environ.get("BENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{why} (CI or BENCH_REQUIRE_BROWSER=1 is set: the browser tests must run)")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service(chromedriver), options=options)
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]})
    yield d
    d.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    runs = make_runs(tmp_path_factory.mktemp("browser-runs") / "runs")
    out = tmp_path_factory.mktemp("browser-site") / "site"
    build.publish_site(runs, out, dataset_loader=digits_only)
    return out, records.load(runs)


def open_page(d, path: Path) -> dict:
    """Load ``path``, wait until site.js has drawn every figure; returns the page's browser
    log and network requests since the previous call."""
    d.get_log("browser")
    d.get_log("performance")
    d.get(path.as_uri())
    deadline = time.time() + WAIT_S
    while d.execute_script("return document.body.getAttribute('data-charts')") != "done":
        assert time.time() < deadline, (
            f"{path.name}: figures not drawn after {WAIT_S} s: {d.get_log('browser')}"
        )
        time.sleep(0.2)
    requests = []
    for entry in d.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    return {"log": d.get_log("browser"), "requests": requests}


def assert_clean(seen: dict, page: Path) -> None:
    severe = [e for e in seen["log"] if e["level"] == "SEVERE"]
    assert not severe, severe
    assert seen["requests"], "no request seen: the performance log is not working"
    outside = [u for u in seen["requests"] if not u.startswith(("file://", "data:"))]
    assert not outside, outside
    assert page.as_uri() in seen["requests"]


def screenshot(d, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert d.save_screenshot(str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 10_000


def test_index_loads_offline_without_errors(driver, site):
    out, _ = site
    seen = open_page(driver, out / "index.html")
    assert_clean(seen, out / "index.html")
    assert any(u.endswith("/assets/plotly.min.js") for u in seen["requests"])
    screenshot(driver, "site-index.png")


def _column(d, table, index: int) -> list:
    """The ``data-sort`` keys of a column, top to bottom, as numbers (None: missing)."""
    keys = d.execute_script(
        "return Array.from(arguments[0].tBodies[0].rows).map("
        "r => r.cells[arguments[1]].getAttribute('data-sort'))",
        table,
        index,
    )
    return [None if k in (None, "") else float(k) for k in keys]


def _labels(d, table) -> list[str]:
    return d.execute_script(
        "return Array.from(arguments[0].tBodies[0].rows).map(r => r.dataset.model)", table
    )


def _sorted_keys(values: list, descending: bool) -> list:
    present = sorted((v for v in values if v is not None), reverse=descending)
    return present + [None] * (len(values) - len(present))


def test_a_click_on_a_header_sorts_the_rows(driver, site):
    from selenium.webdriver.common.by import By

    out, frame = site
    open_page(driver, out / "index.html")
    g = next(g for g in rowstats.groups(frame) if g.dataset == "mnist")
    rows = rowstats.row_stats(g)
    table = driver.find_element(By.CSS_SELECTOR, f"#{g.slug} table.summary")
    _tab(driver, table, "all")  # every column shown, so that each header can be clicked
    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    names = [h.text for h in headers]
    acc = names.index("accuracy % (95% CI)")
    headers[acc].click()  # ascending: worst first, by the raw mean, not the cell's text
    # site.js breaks ties by the rows' order before the click, ascending and descending alike
    assert _labels(driver, table) == [
        r.label for r in sorted(rows, key=lambda r: (r.values["accuracy"], rows.index(r)))
    ]
    headers[acc].click()  # descending, from the ascending order: ties still in the table's order
    assert _labels(driver, table) == [
        r.label for r in sorted(rows, key=lambda r: (-r.values["accuracy"], rows.index(r)))
    ]
    checked = 0
    for index, name in enumerate(names):
        values = _column(driver, table, index) if name not in ("model", "family") else None
        if values is None or all(v is None for v in values):
            continue
        headers[index].click()
        up = _column(driver, table, index)
        assert up == _sorted_keys(up, False), name
        assert headers[index].get_attribute("aria-sort") == "ascending"
        headers[index].click()
        down = _column(driver, table, index)
        assert down == _sorted_keys(down, True), name
        assert sorted(map(str, down)) == sorted(map(str, values))
        checked += 1
    assert checked >= 10
    fam = names.index("family")
    headers[fam].click()
    families = driver.execute_script(
        "return Array.from(arguments[0].tBodies[0].rows).map(r => r.dataset.family)", table
    )
    assert families == sorted(r.family for r in rows)


def _visible(d, selector: str) -> list[str]:
    return d.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(e => e.offsetParent !== null).map(e => e.dataset.model)",
        selector,
    )


def test_the_filters_hide_the_rows_they_should(driver, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    out, frame = site
    open_page(driver, out / "index.html")
    every = [r for g in rowstats.groups(frame) for r in rowstats.row_stats(g)]
    assert {r.family for r in every} >= {"linear", "neural", "trees"}
    rows = "table.summary tbody tr"
    assert sorted(_visible(driver, rows)) == sorted(r.label for r in every)
    Select(driver.find_element(By.ID, "family-filter")).select_by_value("neural")
    assert sorted(_visible(driver, rows)) == sorted(r.label for r in every if r.family == "neural")
    shown = sum(r.family == "neural" for r in every)
    assert driver.find_element(By.ID, "filter-status").text == f"{shown} of {len(every)} rows shown"
    assert all(m is not None for m in _visible(driver, "[data-model]"))
    box = driver.find_element(By.ID, "model-filter")
    box.send_keys("CNN")  # case-insensitive, within the chosen family
    assert sorted(_visible(driver, rows)) == sorted(
        r.label for r in every if r.family == "neural" and "cnn" in r.label.lower()
    )
    Select(driver.find_element(By.ID, "family-filter")).select_by_value("")
    box.clear()
    box.send_keys("log")
    assert sorted(_visible(driver, rows)) == sorted(
        r.label for r in every if "log" in r.label.lower()
    )
    robustness = _visible(driver, "tr[data-model]")
    assert robustness and all(
        "log" in m.lower() for m in robustness
    )  # every filterable table, not only the summary
    box.clear()
    box.send_keys("no such model")
    assert _visible(driver, rows) == []
    assert driver.find_element(By.ID, "filter-status").text == f"0 of {len(every)} rows shown"


def _legend_names(fig: dict) -> list[str]:
    """The trace names plotly shows in a legend: traces not hidden from it, when the figure
    has two or more of them (plotly's default) or asks for a legend."""
    layout = fig.get("layout", {})
    named = [
        t["name"] for t in fig["data"] if t.get("name") and t.get("showlegend", True) is not False
    ]
    if layout.get("showlegend") is False or (
        len(named) < 2 and layout.get("showlegend") is not True
    ):
        return []
    return named


def assert_figures_drawn(d) -> int:
    charts = d.execute_script(
        "return Array.from(document.querySelectorAll('.chart')).map(c => ({id: c.id,"
        " svg: c.querySelectorAll('svg.main-svg').length, canvas: c.querySelectorAll('canvas').length,"
        " marks: Array.from(c.querySelectorAll('.cartesianlayer .trace path, .cartesianlayer .hm image')).filter(e =>"
        "   e.tagName === 'image' ? (e.getAttribute('href') || '').length > 0 : (e.getAttribute('d') || '').length > 2"
        " ).length,"
        " legend: Array.from(c.querySelectorAll('.legendtext')).map(t => t.textContent),"
        " fig: JSON.parse(document.querySelector(`script[data-for='${c.id}']`).textContent)}))"
    )
    assert charts
    for c in charts:
        assert c["svg"] + c["canvas"] > 0 and c["marks"] > 0, c["id"]
        names = _legend_names(c["fig"])
        assert all(n in c["legend"] for n in names), (c["id"], names, c["legend"])
    return len(charts)


def test_every_figure_has_marks_and_its_legend(driver, site):
    out, frame = site
    open_page(driver, out / "index.html")
    assert assert_figures_drawn(driver) >= 8
    legends = driver.execute_script(
        "return Array.from(document.querySelectorAll('#mnist-quick-cpu-pareto "
        ".legendtext')).map(t => t.textContent)"
    )
    g = next(g for g in rowstats.groups(frame) if g.dataset == "mnist")
    assert set(legends) >= {r.label for r in rowstats.row_stats(g)} | {"Pareto front"}
    assert overlapping_ticks(driver) == []


def _images(d) -> list[dict]:
    return d.execute_script(
        "return Array.from(document.images).map(i => ({src: i.currentSrc.slice(0, 60),"
        " width: i.naturalWidth, done: i.complete}))"
    )


def test_every_image_is_decoded(driver, site):
    out, _ = site
    open_page(driver, out / "index.html")
    imgs = _images(driver)
    assert imgs and all(i["done"] and i["width"] > 0 for i in imgs), (
        imgs
    )  # the critical-difference diagrams


def test_a_model_page_with_its_figures_and_mistakes(driver, site):
    out, frame = site
    g = next(g for g in rowstats.groups(frame) if g.dataset == "digits")
    r = next(r for r in rowstats.row_stats(g) if r.model == "cnn-small")
    page = out / "models" / model_page.page_name(g, r)
    seen = open_page(driver, page)
    assert_clean(seen, page)
    assert assert_figures_drawn(driver) == 2  # training curves and confusion matrix
    legend = driver.execute_script(
        "return Array.from(document.querySelectorAll('#curves .legendtext'))"
        ".map(t => t.textContent)"
    )
    assert {"training loss", "validation loss"} <= set(legend)
    imgs = _images(driver)
    assert len(imgs) == min(
        len(g.ok[g.ok["row.key"] == r.key].sort_values("job.seed").iloc[0]["mistakes"]), 32
    )
    assert all(i["done"] and i["width"] == 28 for i in imgs), imgs
    assert all(i["src"].startswith("data:image/png;base64,") for i in imgs)
    screenshot(driver, "site-model.png")


def test_the_committed_site_shows_every_committed_model(driver):
    """results/site/index.html as committed: every model of results/runs in its table, a
    header click sorts, every figure drawn, no console error, no request but the site's."""
    from selenium.webdriver.common.by import By

    index = COMMITTED_SITE / "index.html"
    if not index.is_file():
        pytest.fail(
            f"{index.relative_to(ROOT)} is not committed: build it with "
            "`python -m bench report --format html` from results/runs"
        )
    seen = open_page(driver, index)
    assert_clean(seen, index)
    shown = [(g, rowstats.row_stats(g)) for g in rowstats.groups(records.load(COMMITTED_RUNS))]
    shown = [(g, rows) for g, rows in shown if rows]
    assert shown
    for g, rows in shown:
        tables_there = driver.find_elements(
            By.CSS_SELECTOR, f'section[id="{g.slug}"] table.summary'
        )
        assert tables_there, f"no summary table for {g.title} ({g.slug}) in the committed site"
        assert sorted(_labels(driver, tables_there[0])) == sorted(r.label for r in rows), g.title
    first = driver.find_elements(By.CSS_SELECTOR, "section[id] > h2")[0].text
    assert first.startswith("mnist · full profile · cpu"), first  # it opens on MNIST full
    _each_tab_shows_its_columns(driver, shown[0][0])
    table = driver.find_element(By.CSS_SELECTOR, f'section[id="{shown[0][0].slug}"] table.summary')
    header = next(
        h
        for h in table.find_elements(By.CSS_SELECTOR, "thead th")
        if h.text == "accuracy % (95% CI)"
    )
    index_of = [h.text for h in table.find_elements(By.CSS_SELECTOR, "thead th")].index(header.text)
    header.click()
    up = _column(driver, table, index_of)
    assert up == _sorted_keys(up, False) and header.get_attribute("aria-sort") == "ascending"
    assert assert_figures_drawn(driver) >= len(shown)
    assert overlapping_ticks(driver) == []  # e.g. a log axis labelling 8, 9 beside 100
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _tab(driver, table, key: str) -> None:
    """Click the column tab ``key`` of a summary table."""
    from selenium.webdriver.common.by import By

    tabs = driver.find_element(
        By.CSS_SELECTOR, f'.column-tabs[data-for="{table.get_attribute("id")}"]'
    )
    tabs.find_element(By.CSS_SELECTOR, f'button[data-show="{key}"]').click()


def _each_tab_shows_its_columns(driver, group) -> None:
    """The summary table of ``group`` opens on the first theme's columns; each tab shows
    exactly the columns of its theme (``tables.THEMES``, as the Markdown's tables), "all"
    every column; the shown headers are laid out, not only present."""
    from selenium.webdriver.common.by import By

    from bench.publish import tables

    table = driver.find_element(By.CSS_SELECTOR, f'section[id="{group.slug}"] table.summary')
    every = [
        h.get_attribute("textContent").strip()
        for h in table.find_elements(By.CSS_SELECTOR, "thead th")
    ]

    def shown() -> list[str]:
        return [
            h.text for h in table.find_elements(By.CSS_SELECTOR, "thead th") if h.is_displayed()
        ]

    def theme(columns) -> list[str]:
        return [
            h for h in every if h in columns or (tables.TTA in columns and h.startswith(tables.TTA))
        ]

    first_title, first_columns = tables.THEMES[0]
    assert shown() == theme(first_columns), first_title
    for title, columns in tables.THEMES:
        _tab(driver, table, tables.theme_id(title))
        assert shown() == theme(columns), title
        assert len(shown()) <= 10
        cells = table.find_elements(By.CSS_SELECTOR, "tbody tr:first-child td")
        assert sum(c.is_displayed() for c in cells) == len(shown())
    _tab(driver, table, "all")
    assert shown() == every and len(every) > 10
    _tab(driver, table, tables.theme_id(first_title))


# every pair of tick labels of one axis whose laid-out boxes overlap, in every figure
OVERLAPS_JS = r"""
var out = [];
document.querySelectorAll('.js-plotly-plot').forEach(function (plot) {
  [['xtick', 'xaxislayer-above'], ['ytick', 'yaxislayer-above']].forEach(function (kind) {
    plot.querySelectorAll('g.' + kind[1]).forEach(function (layer) {
      var boxes = Array.prototype.map.call(layer.querySelectorAll('g.' + kind[0] + ' text'), function (el) {
        var r = el.getBoundingClientRect();
        return {t: el.textContent, l: r.left, r: r.right, top: r.top, b: r.bottom};
      }).filter(function (b) { return b.r > b.l; });
      for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
        var a = boxes[i], c = boxes[j];
        if (a.l < c.r - 1 && c.l < a.r - 1 && a.top < c.b - 1 && c.top < a.b - 1)
          out.push([plot.id, kind[0], a.t, c.t]);
      }
    });
  });
});
return out;
"""


def overlapping_ticks(driver) -> list:
    """(figure id, axis kind, label, label) of every two tick labels drawn over each other."""
    return driver.execute_script(OVERLAPS_JS)
