"""The site's assets: ``plotly.min.js`` (bundled from the installed plotly package: the site
never loads anything from a CDN or any other URL), and our own ``site.js`` and ``site.css``
(kept here as text, so that they travel with the Python package).

``site.js``, plain JavaScript without dependencies but Plotly:

- a click (or Enter / Space) on a header of a ``table.sortable`` sorts its rows by that
  column, ascending, then descending on the next click; a cell sorts by its ``data-sort``
  attribute (the raw number: "98.50 ± 0.10 (…)" sorts by 98.5), numerically when every
  non-missing value of the column is a number, else as text with numbers inside compared as
  numbers; missing values (an empty ``data-sort``, or "-") go last in both directions; ties
  keep their order;
- the family select and the model text field hide every element with a ``data-model``
  (table rows, list items) whose ``data-family`` differs or whose ``data-model`` does not
  contain the text (case-insensitive), and say how many summary rows remain;
- every ``script.chart-data`` block is drawn into the ``div`` named by its ``data-for`` with
  ``Plotly.newPlot`` (no Plotly logo, no links to plotly's cloud); when all are drawn
  ``<body data-charts="done">``, and any failure is logged with ``console.error``.
"""

from __future__ import annotations

from pathlib import Path

SITE_JS = r"""/* mnist-bench site: sortable tables, family and model filters, Plotly figures. No network. */
(function () {
  "use strict";
  var CONFIG = {displaylogo: false, showLink: false, showSendToCloud: false, showEditInChartStudio: false,
                responsive: true, modeBarButtonsToRemove: ["sendDataToCloud", "editInChartStudio"]};

  function sortKey(td) {
    if (!td) return null;
    var raw = td.hasAttribute("data-sort") ? td.getAttribute("data-sort") : td.textContent.trim();
    return raw === "" || raw === "-" ? null : raw;
  }

  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (tr) { return sortKey(tr.cells[index]); });
    var numeric = keys.every(function (k) { return k === null || (k.trim() !== "" && isFinite(Number(k))); });
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var order = rows.map(function (_, i) { return i; });
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      if (x === null || y === null) return x === y ? a - b : (x === null ? 1 : -1);
      var c = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
      return c === 0 ? a - b : (ascending ? c : -c);
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    order.forEach(function (i) { body.appendChild(rows[i]); });
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.addEventListener("click", function () { sortBy(table, index, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, index, th); }
      });
    });
  }

  function applyFilters() {
    var family = document.getElementById("family-filter"), text = document.getElementById("model-filter");
    if (!family || !text) return;
    var f = family.value, t = text.value.trim().toLowerCase();
    document.querySelectorAll("[data-model]").forEach(function (el) {
      var model = (el.getAttribute("data-model") || "").toLowerCase();
      el.hidden = Boolean((f && el.getAttribute("data-family") !== f) || (t && model.indexOf(t) < 0));
    });
    var rows = document.querySelectorAll("table.summary tbody tr");
    var shown = Array.prototype.filter.call(rows, function (tr) { return !tr.hidden; }).length;
    var status = document.getElementById("filter-status");
    if (status) status.textContent = f || t ? shown + " of " + rows.length + " rows shown" : "";
  }

  function drawCharts() {
    var blocks = document.querySelectorAll("script.chart-data");
    if (!blocks.length) { document.body.setAttribute("data-charts", "done"); return; }
    if (typeof Plotly === "undefined") { console.error("assets/plotly.min.js did not load: no figures"); return; }
    var pending = Array.prototype.map.call(blocks, function (block) {
      var div = document.getElementById(block.getAttribute("data-for"));
      try {
        var fig = JSON.parse(block.textContent);
        return Plotly.newPlot(div, fig.data, fig.layout, CONFIG);
      } catch (e) {
        return Promise.reject(e);
      }
    });
    Promise.all(pending).then(function () { document.body.setAttribute("data-charts", "done"); },
                              function (e) { console.error("a figure failed to draw: " + e); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(makeSortable);
    ["family-filter", "model-filter"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.addEventListener("input", applyFilters); el.addEventListener("change", applyFilters); }
    });
    applyFilters();
    drawCharts();
  });
})();
"""

SITE_CSS = """/* mnist-bench site */
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --head: #f3f5f7; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 1rem 1.5rem 3rem; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.8rem; margin: .5rem 0; }
h2 { font-size: 1.35rem; margin-top: 2.5rem; padding-top: .5rem; border-top: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin-top: 1.8rem; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
pre { background: var(--head); padding: .7rem 1rem; overflow-x: auto; border-radius: 4px; }
nav ul { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; list-style: none; padding: 0; }
[hidden] { display: none !important; }
.filters { position: sticky; top: 0; z-index: 10; background: #fff; padding: .5rem 0;
           border-bottom: 1px solid var(--line); display: flex; gap: 1.2rem; align-items: center; flex-wrap: wrap; }
.filters input, .filters select { font: inherit; padding: .15rem .4rem; }
#filter-status { color: var(--muted); }
.table-wrap { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--head); white-space: nowrap; }
table.sortable thead th { cursor: pointer; user-select: none; }
table.sortable thead th:hover, table.sortable thead th:focus { background: #e4e9ee; outline: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: .7em; }
th[aria-sort="descending"]::after { content: " \\25BC"; font-size: .7em; }
td[data-sort] { font-variant-numeric: tabular-nums; }
table.summary td { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
table.plain th { background: var(--head); white-space: nowrap; }
details.legend { margin: .5rem 0 1rem; color: var(--muted); font-size: .88rem; max-width: 75rem; }
details summary { cursor: pointer; color: var(--accent); }
.warning { color: #9a6700; }
figure.figure { margin: 1rem 0; }
figure.figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .85rem; }
.chart { width: 100%; min-height: 420px; }
.gallery { display: flex; flex-wrap: wrap; gap: .6rem; }
figure.mistake { margin: 0; text-align: center; font-size: .75rem; }
figure.mistake img { image-rendering: pixelated; border: 1px solid var(--line); display: block; margin: 0 auto; }
"""


def write_assets(assets_dir: Path) -> list[Path]:
    """Write ``plotly.min.js`` (``plotly.offline.get_plotlyjs()``: the installed plotly's own
    bundle, the same bytes for the same plotly version), ``site.js`` and ``site.css`` into
    ``assets_dir`` (created); returns their paths."""
    from plotly.offline import get_plotlyjs

    assets_dir = Path(assets_dir)
    assets_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in (
        ("plotly.min.js", get_plotlyjs()),
        ("site.js", SITE_JS),
        ("site.css", SITE_CSS),
    ):
        path = assets_dir / name
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out
