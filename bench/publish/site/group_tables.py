"""The tables of one leaderboard table (group) as sortable, filterable HTML: the summary, the
robustness and calibration tables, per-class F1, the most-confused pairs and the jobs without
a result.

The content of every table is what the Markdown leaderboard prints, computed by the same
functions (``tables.table_rows``, and ``sections``' ``*_cells``: the same rows give the same
numbers); each cell also carries the raw number it sorts by, and each row its family and
label for the filters.
"""

from __future__ import annotations

from bench.analysis import rowstats
from bench.publish import sections, tables
from bench.publish.site.html import Cell, cell, cells_table, esc, table


def _attrs(r: rowstats.Row) -> dict:
    return {"family": r.family, "model": r.label}


def _sort_values(r: rowstats.Row, with_published: bool) -> dict:
    """header -> the raw value the summary cell of that header sorts by (None: missing)."""
    out = {"model": r.label, "family": r.family, "n": r.n}
    for key in rowstats.TABLE_COLUMNS:
        header = tables.tta_header(r.tta_target) if key == "tta_s" else rowstats.COLUMNS[key][0]
        out[header] = r.values[key]
    if with_published:
        out["published %"] = r.published
    # best first when sorted descending: the best row (p of itself 1), then by p against it
    out["vs best"] = None if r.tied is None else 1.0 if r.vs_best is None else r.p_vs_best
    return out


def summary(rows: list[rowstats.Row], pages: dict[str, str], table_id: str = "summary") -> str:
    """The summary table (``tables.table_rows``: intervals, "vs best", best per column in
    bold as in the Markdown); each model cell links its page ``pages[row.key]``. Tabs above it
    show one theme's columns at a time (``tables.THEMES``, the Markdown's tables; the first
    by default) or all of them: every column carries the themes it belongs to."""
    texts = tables.table_rows(rows, bold=True)
    with_published = any(r.published is not None for r in rows)
    headers = list(texts[0]) if texts else []
    body = []
    for r, text in zip(rows, texts):
        sort = _sort_values(r, with_published)
        cells = []
        for h in headers:
            c = cell(text[h], sort.get(h), markup=True)
            if h == "model" and r.key in pages:
                c = Cell(f'<a href="{esc(pages[r.key])}">{c.html}</a>', r.label)
            cells.append(c)
        body.append(cells)
    columns = [{"themes": " ".join(tables.themes_of(h))} for h in headers]
    first = tables.theme_id(tables.THEMES[0][0])
    return column_tabs(table_id, first) + table(
        headers,
        body,
        [_attrs(r) for r in rows],
        css="sortable summary",
        column_attrs=columns,
        table_attrs={"id": table_id, "show": first},
    )


def column_tabs(table_id: str, selected: str) -> str:
    """The tab buttons of a summary table: one per theme, then "all columns"."""
    choices = [(tables.theme_id(t), t) for t, _ in tables.THEMES] + [("all", "All columns")]
    buttons = "".join(
        f'<button type="button" role="tab" data-show="{esc(key)}" '
        f'aria-selected="{"true" if key == selected else "false"}">{esc(title)}</button>'
        for key, title in choices
    )
    return f'<div class="column-tabs" role="tablist" data-for="{esc(table_id)}">{buttons}</div>'


def robustness(rows: list[rowstats.Row]) -> str | None:
    """``sections.robustness_cells`` as HTML (clean, mean, drop, each corruption; the best of
    each accuracy column in bold with two rows or more); None when no row has robustness."""
    content = sections.robustness_cells(rows)
    return None if content is None else cells_table(content, _attrs, markup=True)


def writers(rows: list[rowstats.Row]) -> tuple[str, str] | None:
    """``sections.writers_cells`` as its intro line and HTML table (census and students
    accuracy, their difference, the undisputed accuracy); None without MNIST outcomes."""
    content = sections.writers_cells(rows)
    return None if content is None else (content[0], cells_table(content[1], _attrs))


def calibration(group: rowstats.Group, rows: list[rowstats.Row]) -> str | None:
    """``sections.calibration_cells`` as HTML (ECE %, Brier, mean confidence %, confidence
    less accuracy in points from the bins summed over seeds); None when no row has it."""
    content = sections.calibration_cells(group, rows)
    return None if content is None else cells_table(content, _attrs)


def class_f1(group: rowstats.Group, rows: list[rowstats.Row]) -> str:
    """Per-class F1 (%), mean over seeds (``sections.f1_cells``), one row per leaderboard row."""
    return cells_table(sections.f1_cells(group, rows), _attrs)


def confused(group: rowstats.Group, rows: list[rowstats.Row]) -> str:
    """Each row's three most-confused pairs (``sections.confused_cells``: true → predicted
    (count), test images summed over seeds), sorting by count."""
    return cells_table(sections.confused_cells(group, rows), _attrs)


def _record_attrs(r) -> dict:
    return {"family": r.get("job.family", ""), "model": r["job.model"]}


def problems(bad) -> str:
    """The jobs whose newest record is not ``ok`` (``sections.problems_cells``, the reason
    not escaped: HTML needs no ``|`` escape): model, device, seed, status, reason."""
    return cells_table(sections.problems_cells(bad, markdown=False), _record_attrs)
