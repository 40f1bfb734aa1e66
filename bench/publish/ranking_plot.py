"""The "Ranking across conditions" section: per ranking (``bench.analysis.ranking``) a table of
the models' average ranks and their score and rank in each condition, Friedman's test, the
Nemenyi post-hoc summary and Demšar's critical-difference diagram (drawn by
``scikit_posthocs.critical_difference_diagram`` at a fixed size, written as ``plots`` writes:
the same ranking gives the same bytes); then why the rankings that are missing are missing.
"""

from __future__ import annotations

from pathlib import Path

from bench.analysis import stats
from bench.analysis.ranking import ALPHA, Ranking
from bench.publish import plots

WIDTH = 9.0  # inches; the height grows with the number of models
LEGEND = (
    'Models ranked across conditions (Demšar 2006, "Statistical comparisons of classifiers over multiple data '
    'sets"). In each condition the models are ranked by accuracy, 1 = best, tied models sharing the average of '
    "their ranks; a model's **average rank** is the mean over the conditions. **Across datasets**: per profile "
    "and device, each model's default configuration (its mean test accuracy over seeds; rows with other "
    "hyper-parameters are not ranked), tables of one dataset from different CPUs pooled (each model's row from "
    "the table holding its newest record: accuracy hardly depends on the CPU). **Across corruptions**: per "
    "table, each model's accuracy under each of the 15 MNIST-C corruptions (mean over seeds). Only models with a "
    "score in every condition are ranked; the note under a ranking names what it left out. Cells: score % "
    "(rank in that condition). "
    "**Friedman**: the tie-corrected chi-square test (k−1 degrees of freedom, N conditions, k models) of the "
    "hypothesis that every model has the same expected rank. **Post-hoc**: Nemenyi's test of every pair, which "
    "holds the family-wise error at 5% over all k(k−1)/2 pairs through the studentized range: two models differ "
    "when their average ranks differ by more than the critical difference CD = q_α·√(k(k+1)/(6N)), the bar in "
    "the diagram, whose thick lines join models not significantly different. Nemenyi rather than Conover's test "
    "with Holm's correction: it is the all-pairs test Demšar recommends, its threshold is the diagram's CD, so "
    "the p-values, the CD and the picture say the same thing, and it is the more conservative of the two, which "
    "suits few conditions that are not independent. Pairs are called different only when Friedman rejects "
    "first. What a ranking does not mean: the conditions are not independent samples of all digit data (the "
    "corruptions are transforms of the same test images; the datasets are the few in the records, and three "
    "are few for Friedman: its chi-square approximation is rough there and only a nearly identical order on "
    "every dataset reaches significance); a rank ignores the size of a difference (0.01 points or 10 count "
    "alike) and the test-set noise within a condition (the McNemar comparisons of each table handle that); "
    "and a model's rank depends on which other models are in the set."
)


def diagram_path(r: Ranking, plots_dir: Path) -> Path:
    """Where ``r``'s critical-difference diagram is drawn under ``plots_dir``."""
    return Path(plots_dir) / f"{r.slug}-cd.png"


def cd_diagram(r: Ranking, path: Path) -> Path:
    """Draw ``r``'s critical-difference diagram (average ranks on the axis, 1 = best; thick
    lines join models whose Nemenyi p is at least ``ALPHA``; the CD bar above) as a PNG of
    ``WIDTH`` inches by a height set by the number of models; returns ``path``."""
    import pandas as pd
    import scikit_posthocs as sp

    plt = plots.pyplot()
    k = len(r.models)
    fig, ax = plt.subplots(figsize=(WIDTH, 1.6 + 0.32 * k))
    # no pair is called different unless Friedman rejects: then the diagram joins every model too
    sig = (
        r.posthoc
        if r.friedman_p < ALPHA
        else pd.DataFrame(1.0, index=r.posthoc.index, columns=r.posthoc.columns)
    )
    drawn = sp.critical_difference_diagram(
        pd.Series(r.average_ranks),
        sig,
        alpha=ALPHA,
        ax=ax,
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
        label_props={"fontsize": 8},
    )
    for bar in drawn.get(
        "crossbars", []
    ):  # drawn from a set: its order (and so the pixels) follows the hash seed
        for line in bar:
            line.set_xdata(sorted(line.get_xdata()))
    best = min(r.average_ranks.values())
    cd = r.critical_difference
    ax.plot([best, best + cd], [1.4, 1.4], color="k", lw=2)  # above the tick labels, not on them
    ax.plot([best, best], [1.25, 1.55], color="k", lw=1)
    ax.plot([best + cd, best + cd], [1.25, 1.55], color="k", lw=1)
    ax.text(best + cd / 2, 1.7, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(top=2.4)
    ax.set_xlim(1, max(k, best + cd))  # the CD bar may reach past the last rank
    ax.set_xticks(range(1, k + 1))
    ax.set_title(
        f"{_wrap(r.title)}\nFriedman {stats.format_p(r.friedman_p)}; Nemenyi, α = {ALPHA:g} "
        f"(N = {len(r.conditions)} {r.kind}); average rank, 1 = best",
        fontsize=9,
    )
    fig.subplots_adjust(left=0.24, right=0.76, top=1 - 0.75 / (1.6 + 0.32 * k), bottom=0.04)
    return plots.save(fig, path)


def _wrap(title: str, width: int = 90) -> str:
    """The title on lines of at most ``width`` characters, broken at " · "."""
    lines, line = [], ""
    for part in title.split(" · "):
        candidate = f"{line} · {part}" if line else part
        if line and len(candidate) > width:
            lines.append(line)
            candidate = part
        line = candidate
    return "\n".join([*lines, line])


def draw(rankings: list[Ranking], plots_dir: Path) -> list[Path]:
    """Every ranking's diagram under ``plots_dir`` (created if missing); the paths drawn."""
    Path(plots_dir).mkdir(parents=True, exist_ok=True)
    return [cd_diagram(r, diagram_path(r, plots_dir)) for r in rankings]


def _rank_text(v: float) -> str:
    return f"{v:g}" if float(v).is_integer() else f"{v:.1f}"


def ranking_cells(r: Ranking) -> tuple[list[str], list[tuple[str, list[tuple[str, object]]]]]:
    """The ranking table's content, computed once for the Markdown and the site: headers and,
    per model by average rank (then name), (model, cells), each cell (text, the raw value it
    sorts by): the model, its average rank, then "score (rank)" per condition (by score)."""
    ranks = r.ranks
    order = sorted(range(len(r.models)), key=lambda j: (r.average_ranks[r.models[j]], r.models[j]))
    body = [
        (
            r.models[j],
            [
                (r.models[j], r.models[j]),
                (f"{r.average_ranks[r.models[j]]:.2f}", r.average_ranks[r.models[j]]),
                *(
                    (f"{r.scores[i, j]:.2f} ({_rank_text(ranks[i, j])})", float(r.scores[i, j]))
                    for i in range(len(r.conditions))
                ),
            ],
        )
        for j in order
    ]
    return ["model", "average rank", *r.conditions], body


def ranking_table(r: Ranking) -> str:
    """``ranking_cells`` as Markdown: models by average rank (then name): average rank, then
    "score (rank)" per condition (split into several tables when the conditions are many)."""
    from bench.publish.tables import text_tables

    headers, body = ranking_cells(r)
    return text_tables(headers, [[text for text, _ in cells] for _, cells in body])


def friedman_line(r: Ranking) -> str:
    """The Friedman test's result in words."""
    verdict = "rejects" if r.friedman_p < ALPHA else "does not reject"
    return (
        f"Friedman over N = {len(r.conditions)} {r.kind} and k = {len(r.models)} models: "
        f"χ²_F = {r.friedman_stat:.2f} ({len(r.models) - 1} d.f.), {stats.format_p(r.friedman_p)}; it "
        f"{verdict} equal expected ranks at {ALPHA:g}."
    )


def posthoc_line(r: Ranking) -> str:
    """The post-hoc's result: the significantly different pairs, or why none is claimed."""
    k = len(r.models)
    cd = (
        f"{r.posthoc_method} post-hoc over all {k * (k - 1) // 2} pairs: CD = {r.critical_difference:.2f} "
        f"average ranks at α = {ALPHA:g}"
    )
    if r.friedman_p >= ALPHA:
        return f"{cd}; no pair is called different, Friedman not having rejected."
    pairs = r.significant_pairs(ALPHA)
    if not pairs:
        return f"{cd}; no pair's average ranks differ by more than the CD."
    listed = ", ".join(f"{a} over {b} ({stats.format_p(p)})" for a, b, p in pairs)
    return f"{cd}; significantly different: {listed}; every other pair is within the CD."


def markdown_lines(
    rankings: list[Ranking], notes: list[str], out_dir: Path, plots_dir: Path | None
) -> list[str]:
    """The section (heading, legend, per ranking its table, Friedman and post-hoc lines, the
    diagram's link when ``plots_dir`` is given, its note; then the notes on rankings not
    made), ending with a blank line; nothing when there are neither rankings nor notes."""
    if not rankings and not notes:
        return []
    out = ["## Ranking across conditions", "", LEGEND, ""]
    for r in rankings:
        out += [
            f"### {r.title}",
            "",
            ranking_table(r),
            "",
            friedman_line(r),
            "",
            posthoc_line(r),
            "",
        ]
        if plots_dir is not None:
            link = diagram_path(r, plots_dir).relative_to(out_dir).as_posix()
            out += [f"![critical-difference diagram]({link})", ""]
        if r.note:
            out += [f"Note: {r.note}.", ""]
    if notes:
        out += ["Rankings not made:", "", *(f"- {n}." for n in notes), ""]
    return out
