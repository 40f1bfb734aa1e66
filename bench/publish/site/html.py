"""HTML pieces of the site: escaping, the leaderboard's inline Markdown as HTML, sortable
tables, embedded Plotly figures and the page shell.

Text only: every function returns a string, and the same arguments give the same string
(JSON with sorted keys, no clock). The shell links the site's own ``assets/`` by a relative path.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass

import numpy as np

from bench.publish.charts import to_plotly
from bench.publish.charts.spec import Chart

GENERATOR = "mnist-bench report --format html"  # marks a folder as a site this module made


def esc(text) -> str:
    """``text`` as HTML text (``&``, ``<``, ``>`` and quotes escaped)."""
    return html.escape(str(text), quote=True)


def inline(text: str) -> str:
    """The leaderboard's inline Markdown (``**bold**``, ```code```) as HTML, everything
    else escaped."""
    out = esc(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


@dataclass(frozen=True)
class Cell:
    """One table cell: its HTML (already escaped or built), and the raw value it sorts by
    (a number, a string, or None: shown as missing and sorted last both ways)."""

    html: str
    sort: float | str | None = None


def cell(text, sort: float | str | None = None, markup: bool = False) -> Cell:
    """A cell of plain text (escaped; ``markup``: inline Markdown) sorting by ``sort``; a
    text of ``-`` sorts last whatever ``sort`` says."""
    body = inline(str(text)) if markup else esc(text)
    return Cell(body, None if str(text) == "-" else sort)


def _sort_attr(value) -> str:
    """The ``data-sort`` attribute: numbers in ``repr`` form (exact, locale-free), strings
    escaped, missing (None, NaN) as an empty attribute."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ' data-sort=""'
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f' data-sort="{float(value)!r}"'
    return f' data-sort="{esc(value)}"'


def table(
    headers: list[str],
    rows: list[list[Cell]],
    row_attrs: list[dict] | None = None,
    caption: str = "",
    css: str = "sortable",
    column_attrs: list[dict] | None = None,
    table_attrs: dict | None = None,
) -> str:
    """A ``<table>`` whose header cells sort it (``site.js``): each ``<td>`` carries its
    ``data-sort``; ``row_attrs[i]`` are the ``<tr>``'s attributes (``family``, ``model``
    for the filters become ``data-family``/``data-model``), ``column_attrs[j]`` those of
    column j's ``<th>`` and every ``<td>`` under it, ``table_attrs`` the ``<table>``'s
    (``id`` as it is, the others as ``data-*``)."""
    columns = [_data_attrs(a) for a in (column_attrs or [{}] * len(headers))]
    head = "".join(
        f'<th scope="col" tabindex="0"{col}>{esc(h)}</th>' for h, col in zip(headers, columns)
    )
    body = []
    for i, row in enumerate(rows):
        attrs = _data_attrs((row_attrs or [{}] * len(rows))[i])
        cells = "".join(
            f"<td{_sort_attr(c.sort)}{col}>{c.html}</td>" for c, col in zip(row, columns)
        )
        body.append(f"<tr{attrs}>{cells}</tr>")
    cap = f"<caption>{inline(caption)}</caption>" if caption else ""
    extra = dict(table_attrs or {})
    ident = f' id="{esc(extra.pop("id"))}"' if "id" in extra else ""
    return (
        f'<div class="table-wrap"><table{ident} class="{css}"{_data_attrs(extra)}>{cap}'
        f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


def _data_attrs(attrs: dict) -> str:
    """``{"k": v}`` as `` data-k="v"`` attributes, escaped, in key order."""
    return "".join(f' data-{k}="{esc(v)}"' for k, v in sorted(attrs.items()))


def cells_table(
    content: tuple[list[str], list], attrs=None, markup: bool = False, css: str = "sortable"
) -> str:
    """``table`` of a Markdown table's content (``sections.Cells``: headers, then per body row
    its source and (text, sort value) cells), each cell's text escaped (``markup``: inline
    Markdown, ``**best**`` bold); ``attrs(source)`` gives each row's attributes."""
    headers, body = content
    rows = [[cell(text, sort, markup=markup) for text, sort in cells] for _, cells in body]
    return table(headers, rows, [attrs(source) for source, _ in body] if attrs else None, css=css)


def jsonable(value):
    """``value`` with numpy arrays and scalars as lists and numbers, NaN and infinities as
    None (JSON has neither), tuples as lists; dict keys kept."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def chart(c: Chart | None, chart_id: str) -> str:
    """A chart (``bench.publish.charts.spec.Chart``) as the site shows it: a ``<div
    class="chart">`` with the chart's caption, and the JSON block of its Plotly figure
    (``to_plotly.figure``) that ``site.js`` draws it from; an empty string for no chart. Every
    ``<`` in the JSON is written ``\\u003c``, so no text in it can end the script block."""
    if c is None:
        return ""
    fig, caption = to_plotly.figure(c), c.caption
    data = json.dumps(
        jsonable({"data": fig.get("data", []), "layout": fig.get("layout", {})}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    data = data.replace(
        "<", "\\u003c"
    )  # JSON.parse reads it back; no "</script" or "<!--" survives
    cap = f"<figcaption>{inline(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="figure"><div class="chart" id="{esc(chart_id)}"></div>{cap}</figure>\n'
        f'<script type="application/json" class="chart-data" data-for="{esc(chart_id)}">{data}</script>'
    )


def bullets(lines: list[str]) -> str:
    """Markdown bullet lines (``- x``, nested ``  - y``, as ``sections.environment_lines``
    gives them) as a nested ``<ul>``."""
    out, depth = [], 0
    for line in lines:
        level = (len(line) - len(line.lstrip(" "))) // 2 + 1
        text = line.strip()
        text = text.removeprefix("- ")
        while depth < level:
            out.append("<ul>")
            depth += 1
        while depth > level:
            out.append("</ul>")
            depth -= 1
        out.append(f"<li>{inline(text)}</li>")
    out += ["</ul>"] * depth
    return "".join(out)


def code_block(lines: list[str]) -> str:
    """Commands as a ``<pre><code>`` block."""
    return "<pre><code>" + "\n".join(esc(line) for line in lines) + "</code></pre>"


def page(title: str, body: str, root: str = "") -> str:
    """A whole HTML document: ``root`` is the relative path from the page to the site's
    root (``""`` or ``"../"``), under which ``assets/`` lies."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="{GENERATOR}">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}assets/site.css">\n'
        f'<script src="{root}assets/plotly.min.js" defer></script>\n'
        f'<script src="{root}assets/site.js" defer></script>\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
