"""The site's ``index.html``: per leaderboard table (group) what the Markdown leaderboard
shows — the data line, the summary table with its legend, the figures (interactive, from
``bench.publish.charts``), per-class F1 and most-confused pairs, the robustness and calibration tables, the
jobs without a result, the environment and the reproduce commands — then the ranking across
conditions (``ranking``, ``ranking_plot``). Every table sorts by a click on a column header
and the family and model filters at the top hide rows (``assets``' ``site.js``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.analysis import efficiency, rowstats
from bench.analysis.ranking import Ranking
from bench.publish import leaderboard, ranking_plot, sections, tables
from bench.publish.charts import define
from bench.publish.site import group_tables
from bench.publish.site.html import (
    bullets,
    cell,
    cells_table,
    chart,
    code_block,
    esc,
    inline,
    page,
    table,
)

TITLE = "mnist-bench leaderboard"


@dataclass
class Table:
    """One leaderboard table of the site: its group, its rows (best first) and the page of
    each row (row key -> path relative to the site's root)."""

    group: rowstats.Group
    rows: list[rowstats.Row]
    pages: dict[str, str] = field(default_factory=dict)


def _filters(families: list[str]) -> str:
    options = "".join(f'<option value="{esc(f)}">{esc(f)}</option>' for f in families)
    return (
        '<form class="filters" id="filters" onsubmit="return false">'
        f'<label>Family <select id="family-filter"><option value="">all</option>{options}</select></label> '
        '<label>Model <input id="model-filter" type="search" placeholder="part of a name" '
        'autocomplete="off"></label> <span id="filter-status" aria-live="polite"></span></form>'
    )


def _legend(text: str, what: str = "What each column means") -> str:
    return f'<details class="legend"><summary>{esc(what)}</summary><p>{inline(text)}</p></details>'


def _figures(t: Table) -> list[str]:
    """The table's figures under its summary (those without data left out)."""
    g, rows = t.group, t.rows
    out = [
        chart(define.accuracy_vs_throughput(g, rows), f"{g.slug}-pareto"),
        chart(define.time_to_accuracy(g, rows), f"{g.slug}-tta"),
        chart(define.training_gflops(g, rows), f"{g.slug}-gflops"),
        *(
            chart(c, f"{g.slug}-sweep-{i}")
            for i, c in enumerate(define.accuracy_vs_parameter(g, rows).values())
        ),
    ]
    return [c for c in out if c]


def _beyond(t: Table) -> list[str]:
    """The robustness and calibration sections, each with its figure, where rows have them."""
    out = []
    robust = group_tables.robustness(t.rows)
    if robust is not None:
        out += [
            "<h3>Robustness (MNIST-C)</h3>",
            f"<p>{inline(sections.ROBUSTNESS_INTRO)}</p>",
            robust,
            chart(define.clean_vs_corrupted(t.group, t.rows), f"{t.group.slug}-robustness"),
        ]
    calibration = group_tables.calibration(t.group, t.rows)
    if calibration is not None:
        out += [
            "<h3>Calibration</h3>",
            f"<p>{inline(sections.CALIBRATION_INTRO)}</p>",
            calibration,
            chart(define.reliability(t.group, t.rows), f"{t.group.slug}-reliability"),
        ]
    return [x for x in out if x]


def _results(t: Table) -> list[str]:
    """Everything shown for a table with ``ok`` rows, from the data line to the calibration."""
    g, rows = t.group, t.rows
    last = g.ok.iloc[-1]
    out = [
        (
            f"<p>Train / validation / test images: {int(last['data.n_train']):,} / {int(last['data.n_val']):,} / "
            f"{int(last['data.n_test']):,}{esc(tables.split_text(last))}.</p>"
        )
    ]
    for note in (tables.interval_note(rows), tables.corrupted_note(rows, int(last["data.n_test"]))):
        out += [f"<p>{inline(note)}</p>"] if note else []
    peak = efficiency.peak_note(g.ok)
    out += [f"<p>{inline(peak)}</p>"] if peak else []
    out += [group_tables.summary(rows, t.pages, f"{g.slug}-summary"), _legend(tables.LEGEND)]
    out += [f'<p class="warning">{esc(n)}</p>' for n in tables.provenance_notes(rows)]
    out += _figures(t)
    f1 = chart(define.per_class_f1(g, rows), f"{g.slug}-f1")
    out += [
        "<h3>Per class</h3>",
        f"<p>{esc(sections.F1_INTRO)}</p>",
        group_tables.class_f1(g, rows),
        f1,
        f"<p>{esc(sections.CONFUSED_INTRO)}</p>",
        group_tables.confused(g, rows),
    ]
    writers = group_tables.writers(rows)
    out += (
        ["<h3>Writers and labels</h3>", f"<p>{esc(writers[0])}</p>", writers[1]] if writers else []
    )
    out += _beyond(t)
    out += [
        "<h3>Model pages</h3>",
        '<ul class="model-links">'
        + "".join(
            f'<li data-family="{esc(r.family)}" data-model="{esc(r.label)}"><a href="{esc(t.pages[r.key])}">'
            f"{esc(r.label)}</a></li>"
            for r in rows
            if r.key in t.pages
        )
        + "</ul>",
    ]
    return [x for x in out if x]


def _section(t: Table) -> str:
    g, rows = t.group, t.rows
    out = [f'<section id="{esc(g.slug)}">', f"<h2>{esc(g.title)}</h2>"]
    if rows:
        out += _results(t)
    else:
        out.append("<p>No ok records in this table.</p>")
    bad = g.without_result()
    if not bad.empty:
        out += ["<h3>Jobs without a result</h3>", group_tables.problems(bad)]
    out += [
        "<h3>Environment</h3>",
        bullets(sections.environment_lines(g)),
        "<h3>Reproduce</h3>",
        code_block(leaderboard.reproduce_commands(g, rows) or ["(no ok records)"]),
        "</section>",
    ]
    return "\n".join(out)


def _ranks_table(r: Ranking, families: dict[str, str]) -> str:
    """``ranking_plot.ranking_cells`` as HTML: models by average rank, then "score (rank)"
    per condition (sorting by the score)."""
    return cells_table(
        ranking_plot.ranking_cells(r), lambda m: {"family": families.get(m, ""), "model": m}
    )


def _posthoc_table(r: Ranking) -> str:
    """The post-hoc's adjusted p-values, models x models (the diagonal blank)."""
    body = [
        [
            cell(a, a),
            *(
                cell("-")
                if a == b
                else cell(f"{float(r.posthoc.loc[a, b]):.3g}", float(r.posthoc.loc[a, b]))
                for b in r.models
            ),
        ]
        for a in r.models
    ]
    return table(["model", *r.models], body, css="sortable posthoc")


def ranking_section(
    rankings: list[Ranking], notes: list[str], diagrams: dict[str, str], families: dict[str, str]
) -> str:
    """The "Ranking across conditions" section (the Markdown's ``ranking_plot.markdown_lines``:
    legend, per ranking its table, Friedman and post-hoc lines, diagram ``diagrams[slug]``,
    note; then why the missing rankings are missing); empty without rankings or notes."""
    if not rankings and not notes:
        return ""
    out = [
        '<section id="ranking">',
        "<h2>Ranking across conditions</h2>",
        _legend(ranking_plot.LEGEND, "How to read it"),
    ]
    for r in rankings:
        out += [
            f"<h3>{esc(r.title)}</h3>",
            _ranks_table(r, families),
            f"<p>{inline(ranking_plot.friedman_line(r))}</p>",
            f"<p>{inline(ranking_plot.posthoc_line(r))}</p>",
        ]
        if r.slug in diagrams:
            out.append(
                f'<figure class="figure"><img src="{esc(diagrams[r.slug])}" alt="critical-difference diagram: '
                f'{esc(r.title)}"><figcaption>Critical-difference diagram.</figcaption></figure>'
            )
        out += [
            (
                f"<details><summary>Post-hoc p-values ({esc(r.posthoc_method)})</summary>{_posthoc_table(r)}"
                "</details>"
            )
        ]
        out += [f"<p>Note: {esc(r.note)}.</p>"] if r.note else []
    if notes:
        out.append("<ul>" + "".join(f"<li>{esc(n)}.</li>" for n in notes) + "</ul>")
    return "\n".join([*out, "</section>"])


def render(
    site_tables: list[Table], rankings: list[Ranking], notes: list[str], diagrams: dict[str, str]
) -> str:
    """The whole ``index.html`` of ``site_tables`` (sorted as ``rowstats.groups``), the rankings
    with their notes and diagrams (ranking slug -> image path relative to the site)."""
    families = {r.model: r.family for t in site_tables for r in t.rows}
    every = sorted(
        {
            *families.values(),
            *(f for t in site_tables for f in t.group.frame["job.family"].dropna()),
        }
    )
    toc = "".join(
        f'<li><a href="#{esc(t.group.slug)}">{esc(t.group.title)}</a></li>' for t in site_tables
    )
    ranked = ranking_section(rankings, notes, diagrams, families)
    toc += '<li><a href="#ranking">Ranking across conditions</a></li>' if ranked else ""
    head = [
        "<header>",
        f"<h1>{esc(TITLE)}</h1>",
        (
            "<p>Generated by <code>python -m bench report --format html</code> from the run records; it works "
            "offline, opened from disk. Click a column header to sort, again to reverse.</p>"
        ),
        f"<p>{esc(leaderboard.SIGNIFICANCE_NOTE)}</p>",
        f"<nav><ul>{toc}</ul></nav>" if toc else "",
        _filters(every),
        "</header>",
    ]
    if not site_tables:
        body = [
            *head,
            "<main><p>No run records yet: <code>python -m bench run --all</code>.</p></main>",
        ]
    else:
        body = [*head, "<main>", *(_section(t) for t in site_tables), ranked, "</main>"]
    return page(TITLE, "\n".join(x for x in body if x))
