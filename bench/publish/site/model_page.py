"""One page per leaderboard row (``models/<group slug>-<row slug>.html``): the row's summary
cells, its training curves and confusion matrix (``bench.publish.charts``), precision, recall and F1 per
class, the most-confused pairs, the gallery of its most confident mistakes, the command that
reproduces it and the environment its records ran in."""

from __future__ import annotations

import dataclasses

import numpy as np

from bench.analysis import rowstats
from bench.publish import leaderboard, sections, tables
from bench.publish.charts import define
from bench.publish.site import images
from bench.publish.site.html import (
    bullets,
    cell,
    chart,
    code_block,
    esc,
    inline,
    page,
    table,
)


def page_name(group: rowstats.Group, r: rowstats.Row) -> str:
    """The file name of the row's page under ``models/``, unique within the site (a row's
    slug is unique within its table, a table's slug within the site)."""
    return f"{group.slug}-{r.slug}.html"


def per_class(group: rowstats.Group, r: rowstats.Row) -> list[dict]:
    """Per class 0..9: precision, recall and F1 in percent, means over seeds (as
    ``charts.data.per_class_f1`` averages F1), and the support of the newest seed's record."""
    g = group.ok[group.ok["row.key"] == r.key].sort_values("job.seed")
    recs = list(g["metrics.per_class"])
    out = []
    for c in range(10):
        row = {"class": c, "support": int(recs[-1][str(c)].get("support", 0))}
        for metric in ("precision", "recall", "f1"):
            row[metric] = float(100 * np.mean([rec[str(c)][metric] for rec in recs]))
        out.append(row)
    return out


def _class_table(group: rowstats.Group, r: rowstats.Row) -> str:
    body = [
        [
            cell(d["class"], d["class"]),
            cell(f"{d['precision']:.2f}", d["precision"]),
            cell(f"{d['recall']:.2f}", d["recall"]),
            cell(f"{d['f1']:.2f}", d["f1"]),
            cell(f"{d['support']:,}", d["support"]),
        ]
        for d in per_class(group, r)
    ]
    return table(["class", "precision %", "recall %", "F1 %", "support"], body)


def _summary(rows: list[rowstats.Row], r: rowstats.Row) -> str:
    """The row's cells of the leaderboard's summary table (computed with the whole table, so
    "vs best" compares with the table's best), one line per column."""
    text = tables.table_rows(rows, bold=False)[rows.index(r)]
    items = "".join(
        f'<tr><th scope="row">{esc(k)}</th><td>{inline(v)}</td></tr>' for k, v in text.items()
    )
    return f'<div class="table-wrap"><table class="plain">{items}</table></div>'


def _confused(group: rowstats.Group, r: rowstats.Row) -> str:
    pairs = sections.confused_pairs(group, r)
    if not pairs:
        return "<p>No test image was misclassified.</p>"
    return "<ol>" + "".join(f"<li>{t} → {p}: {n} test images</li>" for t, p, n in pairs) + "</ol>"


def render(
    group: rowstats.Group, rows: list[rowstats.Row], r: rowstats.Row, images_of_group
) -> str:
    """The whole page of row ``r`` of ``group`` (``rows``: the group's rows, best first);
    ``images_of_group``: the group's test images for the mistakes, or None."""
    own = dataclasses.replace(group, frame=group.frame[group.frame["row.key"] == r.key])
    seeds = ", ".join(map(str, r.seeds))
    parts = [
        f'<nav><a href="../index.html#{esc(group.slug)}">← leaderboard</a></nav>',
        f"<h1>{esc(r.label)}</h1>",
        f"<p>{esc(group.title)} · family {esc(r.family)} · seeds {esc(seeds)}</p>",
        *(f'<p class="warning">{esc(n)}</p>' for n in tables.provenance_notes([r])),
        "<h2>Summary</h2>",
        _summary(rows, r),
        (
            f'<details class="legend"><summary>What each line means</summary><p>{inline(tables.LEGEND)}</p>'
            "</details>"
        ),
    ]
    curves = chart(define.training_curves(group, r), "curves")
    parts += ["<h2>Training curves</h2>", curves or "<p>The record holds no per-pass history.</p>"]
    parts += [
        "<h2>Confusion matrix</h2>",
        chart(define.confusion(group, r), "confusion")
        or "<p>The records hold no confusion matrix.</p>",
    ]
    parts += [
        "<h2>Per class</h2>",
        (
            "<p>Precision, recall and F1 (%), mean over seeds; support: test images "
            "of the class.</p>"
        ),
        _class_table(group, r),
        "<h3>Most confused pairs</h3>",
        "<p>True → predicted, test images summed over seeds.</p>",
        _confused(group, r),
    ]
    title, gallery = images.mistakes(group, r, images_of_group)
    parts += [f"<h2>{esc(title)}</h2>", gallery]
    parts += [
        "<h2>Reproduce</h2>",
        code_block(leaderboard.reproduce_commands(group, [r]) or ["(no ok records)"]),
        "<h2>Environment</h2>",
        bullets(sections.environment_lines(own)),
    ]
    return page(
        f"{r.label} · {group.title}", "<main>\n" + "\n".join(parts) + "\n</main>", root="../"
    )
