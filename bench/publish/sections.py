"""The Markdown sections of one leaderboard table beyond the summary table: per-class F1
and most-confused pairs, the robustness table (accuracy per MNIST-C corruption, clean on the
same images, mean), the calibration table (ECE, Brier, mean confidence), the figure blocks
that link every drawn figure, the jobs without a result, and the environment lines.

Text only, from rows (``tables``) and the figures' paths (``figures.draw``); the same rows
give the same bytes. Each table's content (``*_cells``: headers, and per row its cells' text
and sort value) is computed once, here, for the Markdown and for the site's HTML tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.analysis import populations, robustness, rowstats, stats
from bench.analysis.frame import shared_at_most, side_by_side
from bench.publish import tables
from bench.publish.charts import data

ROBUSTNESS_INTRO = (
    "Robustness (MNIST-C): accuracy % on the corrupted test images, mean over seeds; clean: the same "
    "base images uncorrupted; drop: clean less mean, in points:"
)
CALIBRATION_INTRO = (
    "Calibration: ECE (%, 15 equal-width confidence bins) and multiclass Brier score (0 to 2), "
    "mean ± std over seeds; mean confidence and confidence less accuracy (points; positive: "
    "over-confident) from the bins summed over seeds:"
)

F1_INTRO = "Per-class F1 (%), mean over seeds:"
CONFUSED_INTRO = "Most confused pairs (true → predicted, test images summed over seeds):"

# A table's content, computed once for the Markdown (``markdown_table``) and the site: its
# headers and per body row (source, cells): the leaderboard row, record or model it shows and
# each cell as (text, the raw value it sorts by or None). Markdown text: ``**x**`` is bold.
Cells = tuple[list[str], list[tuple[object, list[tuple[str, object]]]]]


def markdown_table(headers: list[str], body: list) -> str:
    """The github-format Markdown table of ``(headers, body)`` (``Cells``): each cell's text
    as written, no number parsing; a wide one split into several (``tables.text_tables``)."""
    return tables.text_tables(headers, [[text for text, _ in cells] for _, cells in body])


def most_confused(cm, k: int = 3) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count); ties by (true, pred)."""
    cells = [
        (int(cm[i, j]), i, j)
        for i in range(cm.shape[0])
        for j in range(cm.shape[1])
        if i != j and cm[i, j]
    ]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(i, j, n) for n, i, j in cells[:k]]


def confused_pairs(group: rowstats.Group, r: rowstats.Row) -> list[tuple[int, int, int]]:
    """The row's three most-confused pairs, of its confusion matrices summed over seeds."""
    return most_confused(data.confusion_sum(group.ok[group.ok["row.key"] == r.key]))


def f1_cells(group: rowstats.Group, rows: list[rowstats.Row]) -> Cells:
    """Per-class F1 (%) per row, mean over seeds (``data.per_class_f1``), sorting by value."""
    f1 = data.per_class_f1(group, rows)
    return ["model", *map(str, range(10))], [
        (r, [(r.label, r.label), *((f"{v:.2f}", v) for v in f1[r.key])]) for r in rows
    ]


def confused_cells(group: rowstats.Group, rows: list[rowstats.Row]) -> Cells:
    """Per row its three most-confused pairs as "true → predicted (count)", sorting by count;
    "-" where it has fewer."""
    body = []
    for r in rows:
        pairs = confused_pairs(group, r)
        body.append(
            (
                r,
                [
                    (r.label, r.label),
                    *((f"{t} → {p} ({n})", n) for t, p, n in pairs),
                    *[("-", None)] * (3 - len(pairs)),
                ],
            )
        )
    return ["model", "1st", "2nd", "3rd"], body


def class_tables(group: rowstats.Group, rows: list[rowstats.Row]) -> str:
    """The per-class F1 table and the most-confused pairs table, each under its intro line."""
    return "\n".join(
        [
            F1_INTRO,
            "",
            markdown_table(*f1_cells(group, rows)),
            "",
            CONFUSED_INTRO,
            "",
            markdown_table(*confused_cells(group, rows)),
        ]
    )


def problem_reason(r) -> str:
    """The record's error on one line, a ``diverged`` record's test accuracy (when it is a
    number) first; neither escaped nor shortened."""
    acc = r.get("metrics.accuracy")
    lead = (
        f"test accuracy {100 * acc:.2f}%; "
        if r["status"] == "diverged" and acc is not None and not np.isnan(acc)
        else ""
    )
    return lead + " ".join(str(r["error"] or "").split())


def _job_name(r) -> str:
    """The model's name, with the job's precision and runtime where they are not the
    defaults (as row labels say them)."""
    name = str(r["job.model"])
    for field, default in (("precision", "fp32"), ("runtime", "native")):
        value = r.get(f"job.{field}")
        name += f" {field}={value}" if isinstance(value, str) and value != default else ""
    return name


def problems_cells(bad, markdown: bool = True) -> Cells:
    """Jobs without an ``ok`` result by (model, device, seed), their record the source: model
    (with a precision or runtime that is not the default), device, seed, status and reason
    (``problem_reason``, at most 200 characters; for Markdown with ``|`` escaped first)."""
    body = []
    for _, r in bad.sort_values(["job.model", "job.device", "job.seed"]).iterrows():
        reason = problem_reason(r)
        reason = (reason.replace("|", "\\|") if markdown else reason)[:200]
        seed = int(r["job.seed"])
        name = _job_name(r)
        body.append(
            (
                r,
                [
                    (name, name),
                    (r["job.device"], r["job.device"]),
                    (str(seed), seed),
                    (r["status"], r["status"]),
                    (reason, reason),
                ],
            )
        )
    return ["model", "device", "seed", "status", "reason"], body


def problems_table(bad) -> str:
    """Jobs without an ``ok`` result, one line each with the reason; a ``diverged`` one
    (never averaged into a row) leads with the test accuracy it still has."""
    return markdown_table(*problems_cells(bad))


def environment_lines(group: rowstats.Group) -> list[str]:
    """The hardware of the table and every code/library version its records ran with."""
    f = group.frame.sort_values(["started_at", "run_id"])
    envs = [e for e in f["env"] if isinstance(e, dict) and e]
    if not envs:
        return ["- not recorded"]
    env = envs[-1]
    lines = [
        f"- CPU: {env.get('cpu', '?')}, {env.get('cores', '?')} cores, {env.get('memory_gib', '?')} GiB RAM"
    ]
    gpus = env.get("gpus") or []
    lines.append(f"- GPU: {', '.join(x['name'] for x in gpus) if gpus else 'none'}")
    lines.append("- Ran on: " + "; ".join(where_lines(f)))
    versions = list(dict.fromkeys(f["row.provenance"]))
    if len(versions) == 1:
        lines.append(f"- Code and libraries: {versions[0]}")
    else:
        lines.append(f"- Code and libraries: {len(versions)} versions in this table, oldest first:")
        lines += [f"  - {v}" for v in versions]
    return lines


def where_lines(frame) -> list[str]:
    """Each (host, executor, job slots per host) the records ran with: how many records, and
    the most jobs that were measured running on the host at once."""
    seen: dict[str, list] = {}
    for w in frame["where"] if "where" in frame.columns else [None] * len(frame):
        if not isinstance(w, dict) or not w:
            text = "unrecorded: made before records said where they ran"
        else:
            n = side_by_side(w)
            text = (
                f"host {w.get('host', 'unrecorded')}, {w.get('executor', 'local')} executor, "
                + ("one job at a time" if n == 1 else f"{n} job slots per host")
            )
        entry = seen.setdefault(text, [0, None])
        entry[0] += 1
        shared = shared_at_most(w)
        if shared is not None:
            entry[1] = max(entry[1] or 0, shared)
    return [
        f"{text} ({n} record{'s' if n > 1 else ''}"
        + (
            ""
            if most is None
            else f"; measured: {'alone' if most == 1 else f'up to {most} jobs at once'}"
        )
        + ")"
        for text, (n, most) in seen.items()
    ]


def _link(path: Path | None, base: Path, text: str) -> str:
    return f"[{text}]({path.relative_to(base).as_posix()})" if path else "-"


def image(figs: dict, kind: str, alt: str, out_dir: Path) -> list[str]:
    """A Markdown image line (and a blank one) for ``figs[kind]``, relative to ``out_dir``;
    nothing when that figure was not drawn."""
    return [f"![{alt}]({figs[kind].relative_to(out_dir).as_posix()})", ""] if kind in figs else []


def table_figure_lines(figs: dict, out_dir: Path) -> list[str]:
    """The figures shown right under the summary table: accuracy vs throughput, the p-value
    heatmap, time to accuracy, training GFLOP/s against the peaks and every sweep."""
    out = image(figs, "pareto", "accuracy vs inference throughput", out_dir)
    out += image(figs, "pvalues", "pairwise p-values", out_dir)
    out += image(figs, "tta", "validation accuracy against training seconds", out_dir)
    out += image(figs, "gflops", "training GFLOP/s against the measured peaks", out_dir)
    for path in figs.get("sweeps", []):
        out += [
            f"![accuracy against a swept hyper-parameter]({path.relative_to(out_dir).as_posix()})",
            "",
        ]
    return out


def model_figure_lines(rows: list[rowstats.Row], figs: dict, out_dir: Path) -> list[str]:
    """The per-class F1 figure and the table linking every row's own figures."""
    from tabulate import tabulate

    return [
        *image(figs, "f1", "per-class F1", out_dir),
        "Figures per model:",
        "",
        tabulate(
            [
                [
                    r.label,
                    _link(figs[r.key].get("curves"), out_dir, "training curves"),
                    _link(figs[r.key].get("confusion"), out_dir, "confusion matrix"),
                    _link(figs[r.key].get("gallery"), out_dir, "misclassified"),
                ]
                for r in rows
            ],
            headers=["model", "curves", "confusion", "mistakes"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
    ]


def _pct(v: float | None, bold: bool = False) -> tuple[str, float | None]:
    if v is None:
        return "-", None
    return (f"**{v:.2f}**" if bold else f"{v:.2f}"), v


def robustness_cells(rows: list[rowstats.Row]) -> Cells | None:
    """Rows with robustness x (clean on the same base images, mean over the corruptions, the
    drop between them, each corruption): accuracy % as means over seeds, the best of each
    accuracy column in bold when two rows or more have it; None when no row has it."""
    shown = [r for r in rows if r.robustness is not None]
    if not shown:
        return None
    names = robustness.ordered({n for r in shown for n in r.robustness.per_corruption})
    matrix = [
        [
            r.robustness.clean,
            r.values["corrupted"],
            *(r.robustness.per_corruption.get(n) for n in names),
        ]
        for r in shown
    ]
    best = [
        max((f"{v:.2f}" for v in col if v is not None), key=float, default=None)
        for col in zip(*matrix)
    ]
    body = []
    for r, values in zip(shown, matrix):
        clean, mean = values[0], values[1]
        cells = [
            _pct(v, len(shown) > 1 and v is not None and f"{v:.2f}" == b)
            for v, b in zip(values, best)
        ]
        drop = (
            (f"{clean - mean:.2f}", clean - mean)
            if clean is not None and mean is not None
            else ("-", None)
        )
        body.append((r, [(r.label, r.label), cells[0], cells[1], drop, *cells[2:]]))
    return ["model", "clean %", "mean %", "drop", *names], body


def robustness_table(rows: list[rowstats.Row]) -> str | None:
    """``robustness_cells`` as Markdown; None when no row has robustness."""
    content = robustness_cells(rows)
    return None if content is None else markdown_table(*content)


def _mean_std(r: rowstats.Row, key: str, scale_fmt: str) -> tuple[str, float | None]:
    v, s = r.values.get(key), r.stds.get(key)
    if v is None:
        return "-", None
    return format(v, scale_fmt) + (f" ± {format(s, scale_fmt)}" if s is not None else ""), v


def calibration_cells(group: rowstats.Group, rows: list[rowstats.Row]) -> Cells | None:
    """Rows with calibration x (ECE %, Brier, mean top-label confidence %, confidence less
    accuracy in points, from the bins summed over seeds); None when no row has it."""
    bins = data.reliability_bins(group, rows)
    shown = [
        r for r in rows if r.values.get("ece") is not None or r.values.get("brier") is not None
    ]
    if not shown:
        return None
    body = []
    for r in shown:
        conf = robustness.mean_confidence(bins[r.key]) if r.key in bins else None
        mean, over = (100 * conf[0], 100 * (conf[0] - conf[1])) if conf else (None, None)
        body.append(
            (
                r,
                [
                    (r.label, r.label),
                    _mean_std(r, "ece", ".2f"),
                    _mean_std(r, "brier", ".4f"),
                    (f"{mean:.2f}", mean) if conf else ("-", None),
                    (f"{over:+.2f}", over) if conf else ("-", None),
                ],
            )
        )
    return ["model", "ECE %", "Brier", "mean confidence %", "confidence - accuracy (points)"], body


def calibration_table(group: rowstats.Group, rows: list[rowstats.Row]) -> str | None:
    """``calibration_cells`` as Markdown; None when no row has calibration."""
    content = calibration_cells(group, rows)
    return None if content is None else markdown_table(*content)


def beyond_lines(
    group: rowstats.Group, rows: list[rowstats.Row], figs: dict, out_dir: Path
) -> list[str]:
    """The robustness and calibration sections of a table, each with its figures (when
    drawn); nothing for rows without those measurements."""
    out = []
    robust = robustness_table(rows)
    if robust is not None:
        out += [ROBUSTNESS_INTRO, "", robust, ""]
    out += image(figs, "robustness", "clean vs corrupted accuracy", out_dir)
    out += image(figs, "corruptions", "test images under every corruption", out_dir)
    calibration = calibration_table(group, rows)
    if calibration is not None:
        out += [CALIBRATION_INTRO, "", calibration, ""]
    out += image(figs, "reliability", "reliability diagram", out_dir)
    return out


def writers_intro(split: populations.Split, disputed: populations.Labels) -> str:
    """The line above the writers-and-labels table, its counts from the data."""
    n, w = split.images, split.writers
    return (
        f"Writers and labels (MNIST test set): accuracy % on the {n['census']:,} digits of {w['census']} "
        f"Census Bureau employees (NIST SD-3) and on the {n['students']:,} of {w['students']} high-school "
        "students (NIST SD-1), writers from QMNIST's metadata; intervals 95% over writers and seeds (the writer "
        "is the unit). census - students: their difference in points, a two-sample comparison of writer "
        "clusters (cluster-robust variance of each mean plus the seed variance, Welch-Satterthwaite t) with "
        f"its two-sided p. undisputed %: accuracy on the {disputed.undisputed_images:,} test images whose "
        "label at least 3 of 5 annotators confirmed (Northcutt et al. 2021); the accuracy % beside it stays "
        f"the headline. wrong of {disputed.disputed} disputed: the model's mistakes on the others, mean over "
        "seeds. Licences: bench/data/thirdparty/NOTICE."
    )


def _interval_cell(i) -> tuple[str, float]:
    return f"{100 * i.estimate:.2f} ({100 * i.low:.2f}–{100 * i.high:.2f})", 100 * i.estimate


def writers_cells(rows: list[rowstats.Row]) -> tuple[str, Cells] | None:
    """Per row with outcomes on MNIST's test set (``populations``): census and students
    accuracy % with intervals, their difference in points with its interval and p, the
    accuracy, the undisputed accuracy and the mistakes on the disputed images; with the
    intro line. None when no row has them (another dataset: each image is its own unit)."""
    shown = [(r, *populations.of_row(r)) for r in rows]
    shown = [(r, sp, lb) for r, sp, lb in shown if sp is not None]
    if not shown:
        return None
    body = []
    for r, sp, lb in shown:
        d = sp.difference
        diff = (
            (
                f"{100 * d.estimate:+.2f}"
                + (f" ({100 * d.low:+.2f} to {100 * d.high:+.2f})" if d.low is not None else "")
            ),
            100 * d.estimate,
        )
        body.append(
            (
                r,
                [
                    (r.label, r.label),
                    _interval_cell(sp.census),
                    _interval_cell(sp.students),
                    diff,
                    (stats.format_p(d.p), d.p) if d.p is not None else ("-", None),
                    _pct(r.values["accuracy"]),
                    _pct(100 * lb.undisputed_accuracy),
                    (f"{lb.mean_mistakes:.3g}", lb.mean_mistakes),
                ],
            )
        )
    headers = [
        "model",
        "census % (95% CI)",
        "students % (95% CI)",
        "census - students, points (95% CI)",
        "p",
        "accuracy %",
        "undisputed %",
        f"wrong of {shown[0][2].disputed} disputed",
    ]
    return writers_intro(shown[0][1], shown[0][2]), (headers, body)


def writers_lines(rows: list[rowstats.Row]) -> list[str]:
    """The writers-and-labels section (intro, table, blank); nothing without MNIST outcomes."""
    content = writers_cells(rows)
    return [] if content is None else [content[0], "", markdown_table(*content[1]), ""]
