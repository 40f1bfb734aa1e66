"""The site's assets: ``plotly.min.js`` (bundled from the installed plotly package: the site
never loads anything from a CDN or any other URL), and our own ``site.js`` and ``site.css``
(files of ``static/``, shipped with the package as package data).

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

STATIC = ("site.js", "site.css")  # files of ``bench/publish/site/static``, shipped as package data


def write_assets(assets_dir: Path) -> list[Path]:
    """Write ``plotly.min.js`` (``plotly.offline.get_plotlyjs()``: the installed plotly's own
    bundle, the same bytes for the same plotly version), ``site.js`` and ``site.css`` into
    ``assets_dir`` (created); returns their paths."""
    from importlib import resources

    from plotly.offline import get_plotlyjs

    assets_dir = Path(assets_dir)
    assets_dir.mkdir(parents=True, exist_ok=True)
    static = resources.files("bench.publish.site") / "static"
    texts = {"plotly.min.js": get_plotlyjs()}
    texts.update({name: (static / name).read_text(encoding="utf-8") for name in STATIC})
    out = []
    for name, text in texts.items():
        path = assets_dir / name
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out
