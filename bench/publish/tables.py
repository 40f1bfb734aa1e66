"""A leaderboard's rows as text: Markdown, LaTeX, and the numbers behind them (CSV/JSON).

The rows themselves (which records make one, what it holds, its statistics) are
``bench.analysis.rowstats``.
"""

from __future__ import annotations

import re
from collections import Counter

from bench.analysis import populations, robustness, stats
from bench.analysis.rowstats import (
    COLUMNS,
    TABLE_COLUMNS,
    Group,
    Row,
)

LEGEND = (
    "**accuracy % (95% CI)**: test-set accuracy (mean over seeds, ± their standard deviation) and a 95% "
    "confidence interval for the expected accuracy on new test data of the same kind (MNIST: new writers' "
    "digits), over training seeds and test sampling together (one seed: test sampling only, seeds not varied); "
    "unit: the writer where the test set's writers are known (MNIST: 297, cluster-robust), else the image. Not "
    "a prediction interval for the next test set's accuracy. "
    "**val %**: accuracy on the validation split (held out of training; use it, not the test set, to choose; "
    "on MNIST whole writers, none of whom wrote training digits, as none of the test writers did; records made "
    "before that split held out a random sample of images, whose writers also wrote training digits: the line "
    "above each table says which, and a table holding both marks rows [random val] or [writer val]). "
    "**vs best**: this row against the best, seed paired with seed: with writers known, a sign-flip test of the "
    "mean per-writer difference in digits right (unit: writer), else McNemar's mid-p test on the images the two "
    "disagree on; +won/-lost counts images; Holm-corrected over every pair of rows (the heatmap's family, which "
    'allows for the best being chosen from the same data); "tied" = not significantly worse than the best at 5%. '
    "It is an intersection-union test: a row is worse only when every seed pair is significant in that same "
    'direction (p: the largest over the seed pairs), seeds that point opposite ways are "tied (seeds '
    'disagree)", and the mid-p is 1 when the two rows win as many images from each other. '
    '**n**: seeds; "(identical)": every seed gave the same predictions, so the model does not depend on the '
    "seed and there is no spread to show. "
    "**params / size MB**: numbers the fitted model stores / its size in the framework's format. "
    "**train s**: the training clock: the timed fit (imports, graph building and compilation are done before "
    "it; copying the data into the framework's pipeline is inside it) less the validation passes. **passes**: training sets' worth of images processed (epochs, boosting rounds "
    'times 1 + the shifted copies a round also goes over, L-BFGS iterations; "-" where training is not passes over the data, as the SVM\'s solve). '
    "**time to X (val)**: on the train s clock: set-up inside the timed fit plus the training seconds of every "
    "pass up to the first whose validation accuracy reached X (evaluation excluded), so the time to the last "
    "pass's accuracy is train s less the teardown; models evaluated only at the end count their whole training; "
    '"not reached", or how many seeds reached it. '
    "**train img/s**: training images processed over all passes per training second. "
    "**train GFLOP/s**: the model's analytic training FLOPs per image (each dense or convolution layer's forward "
    "product and its weights' gradient, and its input's gradient unless it is the first weight layer, which needs "
    'none; element-wise work not counted) x those images / train s; "-" where they are not counted (trees, SVM, '
    "and L-BFGS, whose loss evaluations per iteration scikit-learn does not report). "
    "**% of peak** = training GFLOP/s over the host's measured peak of the library and precision that ran the "
    "job: TensorFlow's float32 matmul for Keras float32 jobs, its bfloat16 matmul peak for bf16 jobs, NumPy's "
    "float32 GEMM peak (BLAS) for NumPy, scikit-learn and XGBoost, a GPU's matmul for GPU jobs (TF32 where "
    "TensorFlow runs float32 in it), at the job's thread count, per record then mean ± std over "
    "seeds; the line above each table names the peaks and when they were measured (with the runs, or later on "
    'the same hardware fingerprint from the results\' machines folder); "-": no FLOP count, or no peak '
    "measured for that hardware and thread count (`python -m bench machine`). "
    "**infer img/s**: median throughput at a large batch; **p50/p99 ms**: batch-1 latency, each only from "
    'enough calls to have 10 beyond it (p50: 20 calls, p99: 1,000; "-" otherwise, in every seed\'s record). '
    "**p50 / FLOP limit**: the batch-1 p50 over the time one image's forward FLOPs take at the host's "
    "fastest measured peak of that precision (TensorFlow's matmul or NumPy's GEMM, whichever is higher): how "
    "many times the model's arithmetic the call costs; near 1 the model itself is the time, far above it the "
    'call path is (the CSV/JSON give the FLOP-limited time itself, flop_limit_ms); "-": no FLOP count, no '
    "peak or no p50. "
    "**corrupted %**: mean accuracy over the 15 MNIST-C corruptions (Mu and Gilmer 2019) of a fixed subset of "
    "the test images (the line above each table says how many and the set's digest), ± std over seeds, with the "
    "same 95% interval as accuracy: the 15 copies of a base image one cluster, within its writer where known. Per corruption and against the clean accuracy on the same images: the "
    "robustness table below each table. "
    "**ECE %**: top-label expected calibration error, 15 equal-width confidence bins, |accuracy - confidence| "
    "weighted by the bin's share of the test images (Guo et al. 2017); lower is better. The multiclass Brier "
    "score (mean over images of the squared distance between the probabilities and the one-hot label, 0 to 2) "
    "is in the calibration table. "
    "**train peak MB**: the most resident memory the job's process held during the timed fit, everything "
    "already resident included (the kernel's VmHWM reset before the fit, or 5 ms psutil sampling where the "
    "reset is refused: the record's memory.method); what it held just before the fit (framework, data, model) "
    "is before_train_mb in CSV/JSON, with inference_added_mb (the most the inference timing held above what "
    "was resident just before it: what inference adds) and inference_peak_mb (its peak with everything resident, "
    "memory left by training included). "
    "**load s**: cold start of the saved model in a fresh process with a warm file cache (the model file and "
    "the framework's libraries already in the OS page cache, as right after training; a first start after a "
    "reboot reads them from disk and takes longer): importing the framework, loading the artifact and the "
    "first prediction, as `python -m bench predict` pays it, excluding the interpreter's own start. "
    '"-": the row\'s records do not hold the measurement. '
    "Best value per column in bold."
)

LEGEND_MARKER = "<!-- leaderboard-legend -->"  # where the docs page takes the entries


def legend_entries() -> list[str]:
    """``LEGEND`` cut into its entries, one per column (each starts with the column's name in
    bold): the docs' column reference (``docs/methodology/columns.md``) is built from them, so
    the leaderboard and the manual say the same."""
    return [part.strip() for part in re.split(r" (?=\*\*[^*]+\*\*[:;])", LEGEND)]


def _best(rows: list[Row], name: str, higher: bool) -> float | None:
    vals = [r.values[name] for r in rows if r.values[name] is not None]
    return (max(vals) if higher else min(vals)) if vals else None


def vs_best_text(r: Row) -> str:
    if r.tied is None:
        return "-"
    if r.vs_best is None:
        return "best"
    word = "tied" if r.tied else "worse"
    why = "seeds disagree: " if r.vs_best.seeds_disagree else ""
    return f"{word} ({why}+{r.vs_best.won}/-{r.vs_best.lost}, {stats.format_p(r.p_vs_best)})"


def accuracy_text(r: Row, bold: bool = False) -> str:
    mean = f"{r.values['accuracy']:.2f}"
    mean = f"**{mean}**" if bold else mean
    spread = f" ± {r.stds['accuracy']:.2f}" if r.stds.get("accuracy") is not None else ""
    return f"{mean}{spread} ({r.accuracy_low:.2f}–{r.accuracy_high:.2f})"


def corrupted_text(r: Row, bold: bool = False) -> str:
    """The corrupted-accuracy cell: mean, ± std over seeds, (interval); "-" without it."""
    if r.values.get("corrupted") is None:
        return "-"
    mean = f"{r.values['corrupted']:.2f}"
    mean = f"**{mean}**" if bold else mean
    spread = f" ± {r.stds['corrupted']:.2f}" if r.stds.get("corrupted") is not None else ""
    rb = r.robustness
    ci = (
        f" ({rb.low:.2f}–{rb.high:.2f})"
        if rb is not None and rb.low is not None and rb.high is not None
        else ""
    )
    return f"{mean}{spread}{ci}"


def split_text(last) -> str:
    """The validation split of a table's newest record, for the line of split sizes: whole
    writers (``val_split`` "writers": MNIST's, or the groups a user's file gives) or, on a dataset whose writers are known (MNIST), images
    drawn at random whose writers also wrote training digits; "" elsewhere."""
    from bench.data import writers

    if last.get("identity.val_split") == "writers":
        if writers.for_dataset(last.get("identity.data_digest")) is None:  # a user file's groups
            return "; validation: whole writers (the groups the dataset file gives), none of whom wrote training images"
        return (
            "; validation: whole writers, none of whom wrote training digits (as in the test set)"
        )
    if writers.for_dataset(last.get("identity.data_digest")) is not None:
        return (
            "; validation: a random sample of the training images, whose writers also wrote training digits "
            "(records made before the writer-disjoint split)"
        )
    return ""


def interval_note(rows: list[Row]) -> str | None:
    """The line above a table that names its accuracy interval's unit (None without rows):
    the unit most rows used, and the rows that used another (no writers, no outcomes)."""
    cis = [(r.label, r.accuracy_ci) for r in rows if r.accuracy_ci is not None]
    if not cis:
        return None
    unit, n = Counter((ci.unit, ci.n_units) for _, ci in cis).most_common(1)[0][0]
    data = "new writers' digits" if unit == "writer" else "new test images"
    text = (
        f"Accuracy interval: 95% CI for the expected accuracy on {data} of the same kind, over each row's "
        f"training seeds and test sampling (one seed: test sampling only); unit: {unit} ({n:,} {unit}s)."
    )
    others = [
        f"{label} ({ci.unit}, {ci.n_units:,}{'; no per-image outcomes' if 'no per-image' in ci.method else ''})"
        for label, ci in cis
        if (ci.unit, ci.n_units) != (unit, n)
    ]
    return text + (f" Other units: {', '.join(others)}." if others else "")


def corrupted_note(rows: list[Row], n_test: int) -> str | None:
    """The line above a table that says on which images its corrupted column was measured
    (None when no row has it); one clause per (set, size) with the rows, when they differ."""
    sets: dict[tuple, list[str]] = {}
    for r in rows:
        if r.robustness is not None:
            rb = r.robustness
            sets.setdefault((rb.n_corruptions, rb.n_per_corruption, rb.digest), []).append(r.label)
    if not sets:
        return None
    clauses = []
    for (k, n, digest), labels in sorted(sets.items(), key=lambda kv: (-kv[0][1], kv[0])):
        which = (
            "the whole test set" if n >= n_test else f"a fixed stratified subset of the {n_test:,}"
        )
        clauses.append(
            f"the {k} MNIST-C corruptions of {n:,} test images each ({which}; set digest {digest[:12]})"
            + (f" for {', '.join(labels)}" if len(sets) > 1 else "")
        )
    return "Corrupted: " + "; ".join(clauses) + "."


def table_rows(rows: list[Row], bold: bool = True) -> list[dict]:
    """One dict per row, columns in display order, text formatted."""
    best = {k: _best(rows, k, COLUMNS[k][1]) for k in TABLE_COLUMNS if COLUMNS[k][1] is not None}
    with_published = any(r.published is not None for r in rows)
    out = []
    for r in rows:
        label = (
            r.label
            + (" (ref)" if r.published is not None else "")
            + (" ⚠" if len(r.provenance) > 1 else "")
        )
        row = {
            "model": label,
            "family": r.family,
            "n": f"{r.n} (identical)" if r.seed_independent else str(r.n),
        }
        for key in TABLE_COLUMNS:
            header, _, fmt, _, _ = COLUMNS[key]
            v = r.values[key]
            if key == "tta_s":
                header = tta_header(r.tta_target)
                if v is None:
                    k, n = r.tta_reached
                    row[header] = (
                        "-" if n == 0 else "not reached" if k == 0 else f"{k}/{n} seeds reached"
                    )
                    continue
            is_best = (
                bold
                and len(rows) > 1
                and key in best
                and v is not None
                and format(v, fmt) == format(best[key], fmt)
            )
            if key == "accuracy":
                row[header] = accuracy_text(r, is_best)
                if with_published:
                    row["published %"] = f"{r.published:.2f}" if r.published is not None else "-"
                row["vs best"] = vs_best_text(r)
                continue
            if key == "corrupted":
                row[header] = corrupted_text(r, is_best)
                continue
            if v is None:
                row[header] = "-"
                continue
            text = format(v, fmt)
            if r.stds[key] is not None and key not in (
                "params",
                "size_mb",
                "data_passes",
                "val_accuracy",
            ):
                text += f" ± {format(r.stds[key], fmt)}"
            row[header] = f"**{text}**" if is_best else text
        out.append(row)
    return out


def tta_header(target: float) -> str:
    return f"time to {100 * target:g}% (val) s"


# the front page's columns (the README): what a reader compares first, nothing else
FRONT_PAGE = (
    "model",
    "accuracy % (95% CI)",
    "vs best",
    "corrupted % (95% CI)",
    "train s",
    "infer img/s",
    "params",
)


TTA = "time to"  # the time-to-accuracy column's header starts so (its target follows)
# the leaderboard's tables of one group, by theme: every column of TABLE_COLUMNS in one of them,
# none wider than ten columns
THEMES = (
    (
        "Accuracy",
        (
            "model",
            "family",
            "n",
            "accuracy % (95% CI)",
            "published %",
            "vs best",
            "val %",
            "macro-F1 %",
            "params",
        ),
    ),
    (
        "Robustness and calibration",
        ("model", "n", "accuracy % (95% CI)", "corrupted % (95% CI)", "ECE %"),
    ),
    (
        "Training cost",
        (
            "model",
            "n",
            "train s",
            TTA,
            "passes",
            "train img/s",
            "train GFLOP/s",
            "% of peak",
            "train peak MB",
        ),
    ),
    (
        "Inference cost",
        ("model", "n", "infer img/s", "p50 ms", "p50 / FLOP limit", "p99 ms", "load s", "size MB"),
    ),
)


def _picked(row: dict, columns: tuple[str, ...]) -> dict:
    """``row``'s cells under the headers ``columns`` names, in that order (``TTA``: the
    time-to-accuracy header, whatever its target); a header the row lacks is left out."""
    out = {}
    for name in columns:
        for header in row:
            if header == name or (name == TTA and header.startswith(TTA)):
                out[header] = row[header]
    return out


def theme_id(title: str) -> str:
    """A theme's short name, for the site's column tabs: its title's first word, lower case."""
    return title.split()[0].lower()


def themes_of(header: str) -> list[str]:
    """The ids (``theme_id``) of the themes whose tables show the column ``header``."""
    return [
        theme_id(title)
        for title, columns in THEMES
        if header in columns or (TTA in columns and header.startswith(TTA))
    ]


def markdown(rows: list[Row], columns: tuple[str, ...] | None = None) -> str:
    """The rows as a GitHub Markdown table: every column, or only the headers ``columns``
    names (in that order; a header no row has is left out)."""
    from tabulate import tabulate

    cells = table_rows(rows)
    if columns is not None:
        cells = [_picked(row, columns) for row in cells]
    return tabulate(cells, headers="keys", tablefmt="github", disable_numparse=True)


def themed_markdown(rows: list[Row]) -> str:
    """The leaderboard's tables of one group: one per theme (``THEMES``), each titled."""
    parts = []
    for title, columns in THEMES:
        parts += [f"**{title}**", "", markdown(rows, columns), ""]
    return "\n".join(parts).rstrip("\n")


def latex(rows: list[Row], caption: str) -> str:
    """A booktabs table (tabulate's ``latex_booktabs``) with the intervals, for papers."""
    from tabulate import tabulate

    plain = [
        {
            k: v.replace("**", "").replace("±", "+/-").replace("–", "--").replace("⚠", "(!)")
            for k, v in row.items()
        }
        for row in table_rows(rows, bold=False)
    ]
    body = tabulate(plain, headers="keys", tablefmt="latex_booktabs", disable_numparse=True)
    body = body.replace("+/-", r"$\pm$")
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering",
            r"\small",
            f"\\caption{{{caption}}}",
            body,
            r"\end{table}",
        ]
    )


def provenance_notes(rows: list[Row]) -> list[str]:
    """A line per row whose records come from more than one code or library version."""
    return [
        f"⚠ {r.label}: its {r.n} records come from {len(r.provenance)} code/library versions, averaged "
        f"anyway: " + " | ".join(r.provenance)
        for r in rows
        if len(r.provenance) > 1
    ]


def frame(rows: list[Row], group: Group):
    """The numbers behind a table, one dict per row, for CSV/JSON and DataFrames."""
    out = []
    for r in rows:
        d = {
            "dataset": group.dataset,
            "profile": group.profile,
            "device": group.device,
            "cpu": group.cpu,
            "model": r.model,
            "label": r.label,
            "family": r.family,
            "n": r.n,
            "seeds": r.seeds,
            "seed_independent": r.seed_independent,
            "published": r.published,
        }
        for k in COLUMNS:
            d[k] = r.values[k]
            d[k + "_std"] = r.stds[k]
        d.update(
            {
                "accuracy_low": r.accuracy_low,
                "accuracy_high": r.accuracy_high,
                "accuracy_interval": r.interval,
                "accuracy_unit": "percent",
                "tied_with_best": r.tied,
                "p_vs_best": r.p_vs_best,
                "won_vs_best": r.vs_best.won if r.vs_best else None,
                "lost_vs_best": r.vs_best.lost if r.vs_best else None,
                "seeds_disagree_vs_best": r.vs_best.seeds_disagree if r.vs_best else None,
                "provenances": len(r.provenance),
            }
        )
        d.update(_robustness_fields(r))
        d.update(population_fields(r))
        d.update(_peak_fields(group, r))
        out.append(d)
    return out


def _peak_fields(group: Group, r: Row) -> dict:
    """The peak the row's "% of peak" divides by, from its newest record (``efficiency``):
    GFLOP/s, what it is (or why there is none), its source ("record", "later": the machines
    folder, None) and when it was measured."""
    names = {
        "peak_gflops": "row.peak_gflops",
        "peak_what": "row.peak_what",
        "peak_source": "row.peak_source",
        "peak_measured_at": "row.peak_measured_at",
    }
    g = group.ok[group.ok["row.key"] == r.key]
    if g.empty or "row.peak_gflops" not in g.columns:
        return dict.fromkeys(names)
    last = g.sort_values(["started_at", "run_id"]).iloc[-1]
    # pandas holds a missing value of a float column as NaN: JSON and CSV get None
    return {
        k: None if isinstance(last[col], float) and last[col] != last[col] else last[col]
        for k, col in names.items()
    }


def _robustness_fields(r: Row) -> dict:
    """The corrupted accuracy's interval, set and per-corruption means (percent) of a row,
    one ``corrupted.<name>`` key per MNIST-C corruption (None where not measured)."""
    rb = r.robustness
    names = robustness.ordered([*robustness.MNIST_C, *(rb.per_corruption if rb else {})])
    return {
        "corrupted_low": rb.low if rb else None,
        "corrupted_high": rb.high if rb else None,
        "corrupted_interval": rb.interval if rb else None,
        "corrupted_n": rb.n_per_corruption if rb else None,
        "corrupted_digest": rb.digest if rb else None,
        "corrupted_clean": rb.clean if rb else None,
        **{f"corrupted.{name}": (rb.per_corruption.get(name) if rb else None) for name in names},
    }


def population_fields(r: Row) -> dict:
    """A row's accuracy per MNIST writer population with intervals, their difference (points)
    with interval and p, its accuracy on the undisputed labels (percent) and mean mistakes on
    the disputed ones (``populations``); every value None on another test set."""
    split, disputed = populations.of_row(r)
    out = {}
    for name in ("census", "students"):
        i = getattr(split, name) if split else None
        out.update(
            {
                f"{name}_accuracy": 100 * i.estimate if i else None,
                f"{name}_low": 100 * i.low if i else None,
                f"{name}_high": 100 * i.high if i else None,
                f"{name}_writers": split.writers[name] if split else None,
            }
        )
    d = split.difference if split else None
    scaled = {
        k: (None if d is None or getattr(d, k) is None else 100 * getattr(d, k))
        for k in ("estimate", "low", "high")
    }
    out.update(
        {
            "census_minus_students": scaled["estimate"],
            "census_minus_students_low": scaled["low"],
            "census_minus_students_high": scaled["high"],
            "census_minus_students_p": d.p if d else None,
            "undisputed_accuracy": 100 * disputed.undisputed_accuracy if disputed else None,
            "disputed_mistakes": disputed.mean_mistakes if disputed else None,
        }
    )
    return out


WIDTH = 11  # the widest Markdown table: the model and the ten digits of a per-class table


def split_wide(headers: list[str], width: int = WIDTH) -> list[list[int]]:
    """Column indices of the tables a table of ``headers`` is split into: the first column in
    each, then the others in order, as evenly as the fewest tables of at most ``width``
    columns allow (no table left with one column beside the first)."""
    if width < 2:
        raise ValueError(f"a table needs room for its first column and one more, not {width}")
    if len(headers) <= width:
        return [list(range(len(headers)))]
    rest = list(range(1, len(headers)))
    parts = -(-len(rest) // (width - 1))
    size = -(-len(rest) // parts)
    return [[0, *rest[i : i + size]] for i in range(0, len(rest), size)]


def text_tables(headers: list[str], rows: list[list[str]], width: int = WIDTH) -> str:
    """``rows`` (cell texts) under ``headers`` as one or more Markdown tables (``split_wide``),
    a blank line between them."""
    from tabulate import tabulate

    return "\n\n".join(
        tabulate(
            [[row[i] for i in cols] for row in rows],
            headers=[headers[i] for i in cols],
            tablefmt="github",
            disable_numparse=True,
        )
        for cols in split_wide(headers, width)
    )
