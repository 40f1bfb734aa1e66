"""Publishable leaderboards built from stored run records (pandas + tabulate + matplotlib).

``publish(runs_dir, out_dir)`` reads the records and writes ``<out>/LEADERBOARD.md`` and
the figures under ``<out>/plots/``. Per table (dataset, profile, device, CPU model; rows
and their statistics come from ``bench.analysis.rowstats``, as text from ``bench.publish.tables``):

- the summary table with intervals, the comparison with the best row and a legend saying
  what every column is; rows flagged when their records mix code or library versions;
- accuracy against inference throughput (Pareto front), per-class F1, the pairwise p-value
  heatmap;
- per-class F1 per row, and each row's three most-confused class pairs;
- on MNIST's test set: accuracy per writer population (census employees, students) with
  their difference, and the accuracy on the undisputed labels (``bench.analysis.populations``);
- per row: training curves, confusion heatmap, misclassified gallery (``bench.publish.figures``);
- where records hold them: accuracy per MNIST-C corruption against the clean accuracy on the
  same images, calibration (ECE, Brier) with the reliability diagram, a gallery of one test
  image under every corruption (these sections: ``bench.publish.sections``);
- jobs whose newest record is not ``ok`` (failed, timed out, skipped) with their reason;
- every environment the table's records ran in, and the commands that reproduce it.

After the tables: the models ranked across datasets and across the MNIST-C corruptions
(Friedman, Nemenyi, critical-difference diagrams: ``bench.analysis.ranking``).

The same records give the same bytes: sorted rows, fixed float formats, no clock.
``--format csv|json|latex`` write the numbers behind the tables instead.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from bench import records
from bench.analysis import efficiency, ranking, rowstats
from bench.core import atomic
from bench.core.errors import BenchError
from bench.data import recorded
from bench.publish import figure_cache, figures, ranking_plot, sections, tables

README_START, README_END = "<!-- leaderboard:start -->", "<!-- leaderboard:end -->"
FRONT = ("mnist", "full", "cpu")  # the README's table: dataset, profile, device


def front_first(groups: list) -> list:
    """``groups`` (``rowstats.groups``, sorted by dataset) with the front page's tables
    (``FRONT``: MNIST, full profile, CPU) first, the others in their order: the leaderboard
    and the site open on the table most readers come for."""
    return sorted(groups, key=lambda g: (g.dataset, g.profile, g.device) != FRONT)


FORMATS = ("md", "csv", "json", "latex")
SIGNIFICANCE_NOTE = (
    "Intervals and tests count training seeds and test sampling, writers the unit where the "
    "test set's writers are known: they reach new writers' digits of the same kind, not other "
    "data."
)


def reproduce_commands(group: rowstats.Group, rows: list[rowstats.Row]) -> list[str]:
    """``python -m bench run`` commands that re-run every row: one per shared setting, rows
    with non-default hyper-parameters each with their own ``--set`` flags."""
    from bench.adapters import registry

    ok = group.ok
    settings: dict[tuple, list[tuple[str, list[str]]]] = {}
    for r in rows:
        last = ok[ok["row.key"] == r.key].iloc[-1]
        flags = r.label.split(" ")[1:]
        sets = [
            f"--set {r.model}.{f}"
            for f in flags
            if "=" in f
            and not f.startswith(
                (
                    "threads=",
                    "infer-batch=",
                    "min-repeats=",
                    "[",
                    "target=",
                    "precision=",
                    "runtime=",
                )
            )
        ]
        sets += [
            f"--{f.split('=', 1)[0]} {f.split('=', 1)[1]}"
            for f in flags
            if f.startswith(("target=", "precision=", "runtime="))
        ]
        plugin = (
            last.get("job.origin.path") if last.get("job.origin.kind") == "plugin-file" else None
        )
        sets += [f"--plugin {shlex.quote(str(plugin))}"] if plugin else []
        trained_file = (
            last.get("job.origin.path") if last.get("job.origin.kind") == "file" else None
        )
        sets += [f"--with {shlex.quote(str(trained_file))}"] if trained_file else []
        sets += [
            f"--{k.replace('_', '-')} {shlex.quote(str(v))}"
            for k, v in sorted(_options(last).items())
            if trained_file
        ]
        key = (
            last["row.threads"],
            last["row.protocol"],
            bool(last["row.deterministic"]),
            r.n,
            int(last["row.side_by_side"]),
        )
        settings.setdefault(key, []).append((r.model, sets))
    commands = []
    for (threads, protocol, deterministic, n, shared), entries in sorted(settings.items(), key=str):
        common = _setting_flags(group, threads, protocol, deterministic, n)
        if shared > 1:  # timed side by side: the same number of jobs per host reproduces it
            common += f" --executor dask --workers {shared}"
        plain = sorted({m for m, sets in entries if not sets})
        if plain:
            if plain == sorted(registry.default_suite()):
                which = "--all"
            elif plain == sorted(_suite_or_empty("reference")):
                which = "--suite reference"
            else:
                which = " ".join(plain)
            commands.append(f"python -m bench run {which}{common}")
        for model, sets in entries:
            if sets:
                commands.append(f"python -m bench run {model}{common} {' '.join(sets)}")
    return commands


def _options(last) -> dict:
    """The input convention a trained file was given (``job.origin.options``, flattened)."""
    prefix = "job.origin.options."
    return {
        k[len(prefix) :]: v
        for k, v in last.items()
        if k.startswith(prefix) and v == v and v is not None
    }


def _suite_or_empty(name: str) -> list[str]:
    from bench.adapters import registry

    try:
        return registry.suite(name)
    except BenchError:
        return []


def _setting_flags(
    group: rowstats.Group, threads, protocol: str, deterministic: bool, n: int
) -> str:
    from bench.measure.profiles import PROFILES

    cmd = ""
    if group.dataset != "mnist":
        cmd += f" --dataset {group.dataset}"
    if group.profile != "full":
        cmd += f" --profile {group.profile}"
    if group.device != "cpu":
        cmd += f" --device {group.device}"
    if n > 1:
        cmd += f" --seeds {n}"
    if threads is not None:
        cmd += f" --threads {int(threads)}"
    if protocol and group.profile in PROFILES:
        p = json.loads(protocol)
        default = PROFILES[group.profile].inference.as_dict()
        if p.get("large_batch") != default["large_batch"]:
            cmd += f" --infer-batch {p['large_batch']}"
        if p.get("large", {}).get("min_repeats") != default["large"]["min_repeats"]:
            cmd += f" --infer-min-repeats {p['large']['min_repeats']}"
        if p.get("large", {}).get("min_seconds") != default["large"]["min_seconds"]:
            cmd += f" --infer-min-seconds {p['large']['min_seconds']:g}"
    if deterministic:
        cmd += " --deterministic"
    return cmd


def render(
    df,
    out_dir: Path,
    plots_dir: Path | None,
    dataset_loader=recorded.test_images,
    drawn: list | None = None,
    corrupted_loader=recorded.corrupted_set,
) -> str:
    """The whole leaderboard Markdown; draws figures into ``plots_dir`` unless it is None,
    appending the path of every figure drawn to ``drawn`` when given. ``dataset_loader`` and
    ``corrupted_loader`` give the images of the galleries (``figures.draw``)."""
    out = [
        "# Leaderboard",
        "",
        "Generated by `python -m bench report` from the run records.",
        "",
        tables.LEGEND,
        "",
        SIGNIFICANCE_NOTE,
        "",
    ]
    gs = front_first(rowstats.groups(df))
    if not gs:
        return "\n".join(out + ["No run records yet: `python -m bench run --all`.", ""])
    for group in gs:
        out += [f"## {group.title}", ""]
        ok, rows = group.ok, rowstats.row_stats(group)
        figs = {}
        if rows:
            last = ok.iloc[-1]
            out += [
                (
                    f"Train / validation / test images: {int(last['data.n_train']):,} / {int(last['data.n_val']):,} / "
                    f"{int(last['data.n_test']):,}{tables.split_text(last)}."
                ),
                "",
                *_interval_note(rows),
                *_corrupted_note(rows, last),
                *_peak_note(group),
                tables.themed_markdown(rows),
                "",
            ]
            notes = tables.provenance_notes(rows)
            out += [*notes, ""] if notes else []
            if plots_dir is not None:
                figs = _draw_figures(group, rows, plots_dir, dataset_loader, corrupted_loader)
                if drawn is not None:
                    drawn += figure_cache.paths(figs)
                out += sections.table_figure_lines(figs, out_dir)
            out += [sections.class_tables(group, rows), ""]
            out += sections.writers_lines(rows)
            if plots_dir is not None:
                out += sections.model_figure_lines(rows, figs, out_dir)
            out += sections.beyond_lines(group, rows, figs, out_dir)
        bad = group.without_result()
        if not bad.empty:
            out += ["Jobs without a result:", "", sections.problems_table(bad), ""]
        out += [
            "Environment:",
            "",
            *sections.environment_lines(group),
            "",
            "Reproduce:",
            "",
            "```",
            *(reproduce_commands(group, rows) or ["(no ok records)"]),
            "```",
            "",
        ]
    rankings, notes = ranking.compute(df)
    if plots_dir is not None:
        key = figure_cache.digest(df, [repr(r) for r in rankings])  # the rankings' every figure
        diagrams = figure_cache.draw(
            plots_dir, "rankings", key, lambda: {"cd": ranking_plot.draw(rankings, plots_dir)}
        )["cd"]
        if drawn is not None:
            drawn += diagrams
    out += ranking_plot.markdown_lines(rankings, notes, out_dir, plots_dir)
    return "\n".join(out)


def _draw_figures(
    group: rowstats.Group,
    rows: list[rowstats.Row],
    plots_dir: Path,
    dataset_loader,
    corrupted_loader,
) -> dict:
    """``figures.draw`` for one table, or the files it drew before from the same records with
    the same code (``figure_cache``)."""
    inputs = [
        group.title,
        group.tta_target,
        [r.key for r in rows],
        [r.label for r in rows],
        getattr(dataset_loader, "__qualname__", repr(dataset_loader)),
        getattr(corrupted_loader, "__qualname__", repr(corrupted_loader)),
    ]
    key = figure_cache.digest(group.frame, inputs)
    missing: list[bool] = []

    def watched(
        loader,
    ):  # a loader that found nothing leaves galleries out: not a figure set to keep
        def load(*args):
            value = loader(*args)
            missing.append(value is None)
            return value

        return load

    return figure_cache.draw(
        plots_dir,
        group.slug,
        key,
        lambda: figures.draw(
            group,
            rows,
            plots_dir,
            watched(dataset_loader),
            watched(corrupted_loader or recorded.corrupted_set),
        ),
        complete=lambda: not any(missing),
    )


def _interval_note(rows: list[rowstats.Row]) -> list[str]:
    """The line naming the accuracy interval's unit (``tables.interval_note``) and a blank, or nothing."""
    note = tables.interval_note(rows)
    return [note, ""] if note else []


def _corrupted_note(rows: list[rowstats.Row], last) -> list[str]:
    """The line saying what the corrupted column was measured on (and a blank), or nothing."""
    note = tables.corrupted_note(rows, int(last["data.n_test"]))
    return [note, ""] if note else []


def _peak_note(group: rowstats.Group) -> list[str]:
    """The line naming the table's measured peaks (``efficiency.peak_note``) and a blank, or nothing."""
    note = efficiency.peak_note(group.ok)
    return [note, ""] if note else []


def prune_plots(plots_dir: Path, drawn: list[Path]) -> list[Path]:
    """Remove the ``*.png`` files directly in ``plots_dir`` that are not in ``drawn`` (figures
    of rows, tables or names that no longer exist), so the folder holds exactly what the
    leaderboard shows; returns the removed paths. Nothing else there is touched."""
    keep = {Path(p).resolve() for p in drawn}
    stale = [
        p for p in sorted(Path(plots_dir).glob("*.png")) if p.is_file() and p.resolve() not in keep
    ]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def summary_frame(df):
    """One row per leaderboard row: the numbers behind the tables (pandas DataFrame)."""
    import pandas as pd

    return pd.DataFrame(
        [d for g in rowstats.groups(df) for d in tables.frame(rowstats.row_stats(g), g)]
    )


def latex_document(df) -> str:
    parts = ["% generated by `python -m bench report --format latex`; needs \\usepackage{booktabs}"]
    for g in rowstats.groups(df):
        rows = rowstats.row_stats(g)
        if rows:
            parts += [
                tables.latex(
                    rows,
                    f"{g.dataset}, {g.profile} profile, {g.device} ({g.cpu}). "
                    f"Accuracy with its 95\\% CI (unit: {rows[0].interval}); vs best: paired "
                    f"{rowstats.pair_test_name(rows)}, Holm over all pairs.",
                ),
                "",
            ]
    return "\n".join(parts)


def readme_section(df) -> str:
    """The README's table, between the leaderboard markers: the front-page table (the
    ``tables.FRONT_PAGE`` columns) of MNIST, full profile, CPU (of the hardware with the most
    rows where several measured it; the first table when there is none), and where the rest is."""
    groups = [(g, rowstats.row_stats(g)) for g in rowstats.groups(df)]
    groups = [(g, rows) for g, rows in groups if rows]
    if not groups:
        return "No records yet: `python -m bench run --all`."
    main = [(g, rows) for g, rows in groups if (g.dataset, g.profile, g.device) == FRONT]
    group, rows = max(main, key=lambda gr: len(gr[1])) if main else groups[0]
    return "\n".join(
        [
            f"**{group.title}**",
            "",
            tables.markdown(rows, tables.FRONT_PAGE),
            "",
            "Every column (val %, calibration, time to accuracy, % of peak, latency, memory), every "
            "dataset and profile, and what each column means: "
            "[results/LEADERBOARD.md](results/LEADERBOARD.md); the same as an offline site: "
            "`results/site/index.html`.",
        ]
    )


def update_readme(readme: Path, df) -> None:
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise BenchError(
            f"{readme} has no leaderboard markers; add {README_START} and {README_END} on their own lines"
        )
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    atomic.write_text(readme, f"{head}{README_START}\n{readme_section(df)}\n{README_END}{tail}")


def load_frame(
    runs_dir: Path, tta_target: float = rowstats.DEFAULT_TTA_TARGET, recs: list[dict] | None = None
):
    """The records frame of ``runs_dir`` (``records.load``; of ``recs`` when given) as every
    view reads it: ``attrs`` name the "time to X (val)" target and the machines folder
    (``efficiency.machines_dir``) whose figures records without their own are read against."""
    df = records.load(runs_dir, recs)
    df.attrs["tta_target"] = tta_target
    df.attrs["machines_dir"] = str(efficiency.machines_dir(runs_dir))
    return df


def publish(
    runs_dir: Path,
    out_dir: Path,
    plots: bool = True,
    fmt: str = "md",
    tta_target: float = rowstats.DEFAULT_TTA_TARGET,
) -> Path:
    """Write the leaderboard (and figures) for ``runs_dir`` into ``out_dir``; returns the file.
    ``tta_target``: the validation accuracy of the "time to X (val)" column. With figures, the
    ``*.png`` files of ``<out>/plots`` that this publish did not draw are removed.

    Holds ``<out>/.publish.lock`` meanwhile: suites sharing a results folder take turns."""
    if fmt not in FORMATS:
        raise BenchError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    with atomic.locked(out_dir / ".publish.lock"):
        df = load_frame(runs_dir, tta_target)
        if fmt == "md":
            path = out_dir / "LEADERBOARD.md"
            drawn: list[Path] = []
            atomic.write_text(
                path, render(df, out_dir, out_dir / "plots" if plots else None, drawn=drawn)
            )
            if plots:  # --no-plots leaves the folder as it is
                prune_plots(out_dir / "plots", drawn)
                figure_cache.prune(
                    out_dir / "plots", {"rankings", *(g.slug for g in rowstats.groups(df))}
                )
        elif fmt == "csv":
            path = out_dir / "leaderboard.csv"
            atomic.write_text(path, summary_frame(df).to_csv(index=False, float_format="%.6g"))
        elif fmt == "json":
            path = out_dir / "leaderboard.json"
            rows = [tables.frame(rowstats.row_stats(g), g) for g in rowstats.groups(df)]
            atomic.write_text(
                path,
                json.dumps(
                    [r for group in rows for r in group],
                    indent=1,
                    sort_keys=True,
                    default=_json_value,
                )
                + "\n",
            )
        else:
            path = out_dir / "leaderboard.tex"
            atomic.write_text(path, latex_document(df) + "\n")
    return path


def _json_value(v):
    """numpy scalars as plain numbers (anything else unknown to json as null)."""
    return v.item() if hasattr(v, "item") else None


def write_leaderboard(results_dir: Path, plots: bool = True) -> Path:
    """``publish`` with the default layout: records in ``<results>/runs``; ``plots`` False:
    the Markdown only, the figures folder left as it is."""
    return publish(Path(results_dir) / "runs", Path(results_dir), plots=plots)
