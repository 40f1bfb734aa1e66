"""Publishable leaderboards built from stored run records (pandas + tabulate + matplotlib).

``publish(runs_dir, out_dir)`` reads the records and writes ``<out>/LEADERBOARD.md`` and
the figures under ``<out>/plots/``. Per table (dataset, profile, device, CPU model; rows
and their statistics come from ``bench.report.rows``, as text from ``bench.report.tables``):

- the summary table with intervals, the comparison with the best row and a legend saying
  what every column is; rows flagged when their records mix code or library versions;
- accuracy against inference throughput (Pareto front), per-class F1, the pairwise p-value
  heatmap;
- per-class F1 per row, and each row's three most-confused class pairs;
- per row: training curves, confusion heatmap, misclassified gallery (``bench.report.figures``);
- jobs whose newest record is not ``ok`` (failed, timed out, skipped) with their reason;
- every environment the table's records ran in, and the commands that reproduce it.

The same records give the same bytes: sorted rows, fixed float formats, no clock.
``--format csv|json|latex`` write the numbers behind the tables instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import records
from bench.core import atomic
from bench.core.errors import BenchError
from bench.report import figures, tables
from bench.report.rows import shared_at_most

README_START, README_END = "<!-- leaderboard:start -->", "<!-- leaderboard:end -->"
FORMATS = ("md", "csv", "json", "latex")
SIGNIFICANCE_NOTE = ("Intervals and tests are over this one test set: seeds measure the noise of training, "
                     "not of the data a model will meet next.")


def most_confused(cm, k: int = 3) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count); ties by (true, pred)."""
    cells = [(int(cm[i, j]), i, j) for i in range(cm.shape[0]) for j in range(cm.shape[1]) if i != j and cm[i, j]]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(i, j, n) for n, i, j in cells[:k]]


def class_tables(group: tables.Group, rows: list[tables.Row]) -> str:
    from tabulate import tabulate

    f1 = figures.per_class_f1(group, rows)
    f1_rows = [[r.label, *(f"{v:.2f}" for v in f1[r.key])] for r in rows]
    confused = []
    for r in rows:
        pairs = most_confused(figures.confusion_sum(group.ok[group.ok["row.key"] == r.key]))
        confused.append([r.label, *(f"{t} → {p} ({n})" for t, p, n in pairs), *["-"] * (3 - len(pairs))])
    return "\n".join([
        "Per-class F1 (%), mean over seeds:", "",
        tabulate(f1_rows, headers=["model", *map(str, range(10))], tablefmt="github", disable_numparse=True), "",
        "Most confused pairs (true → predicted, test images summed over seeds):", "",
        tabulate(confused, headers=["model", "1st", "2nd", "3rd"], tablefmt="github", disable_numparse=True),
    ])


def problems_table(bad) -> str:
    """Jobs without an ``ok`` result, one line each with the reason; a ``diverged`` one
    (never averaged into a row) leads with the test accuracy it still has."""
    from tabulate import tabulate

    def reason(r) -> str:
        """The record's error on one line, ``|`` escaped for Markdown, at most 200 characters;
        a diverged record's test accuracy first (when it is a number)."""
        acc = r.get("metrics.accuracy")
        lead = f"test accuracy {100 * acc:.2f}%; " if r["status"] == "diverged" and acc == acc and acc is not None \
            else ""
        return (lead + " ".join(str(r["error"] or "").split())).replace("|", "\\|")[:200]

    rows = [{"model": r["job.model"], "device": r["job.device"], "seed": int(r["job.seed"]), "status": r["status"],
             "reason": reason(r)}
            for _, r in bad.sort_values(["job.model", "job.device", "job.seed"]).iterrows()]
    return tabulate(rows, headers="keys", tablefmt="github", disable_numparse=True)


def environment_lines(group: tables.Group) -> list[str]:
    """The hardware of the table and every code/library version its records ran with."""
    f = group.frame.sort_values(["started_at", "run_id"])
    envs = [e for e in f["env"] if isinstance(e, dict) and e]
    if not envs:
        return ["- not recorded"]
    env = envs[-1]
    lines = [f"- CPU: {env.get('cpu', '?')}, {env.get('cores', '?')} cores, {env.get('memory_gib', '?')} GiB RAM"]
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
            n = tables.side_by_side(w)
            text = (f"host {w.get('host', 'unrecorded')}, {w.get('executor', 'local')} executor, "
                    + ("one job at a time" if n == 1 else f"{n} job slots per host"))
        entry = seen.setdefault(text, [0, None])
        entry[0] += 1
        shared = shared_at_most(w)
        if shared is not None:
            entry[1] = max(entry[1] or 0, shared)
    return [f"{text} ({n} record{'s' if n > 1 else ''}"
            + ("" if most is None else f"; measured: {'alone' if most == 1 else f'up to {most} jobs at once'}") + ")"
            for text, (n, most) in seen.items()]


def reproduce_commands(group: tables.Group, rows: list[tables.Row]) -> list[str]:
    """``python -m bench run`` commands that re-run every row: one per shared setting, rows
    with non-default hyper-parameters each with their own ``--set`` flags."""
    from bench.adapters import registry

    ok = group.ok
    settings: dict[tuple, list[tuple[str, list[str]]]] = {}
    for r in rows:
        last = ok[ok["row.key"] == r.key].iloc[-1]
        flags = r.label.split(" ")[1:]
        sets = [f"--set {r.model}.{f}" for f in flags
                if "=" in f and not f.startswith(("threads=", "infer-batch=", "min-repeats=", "[", "target="))]
        sets += [f"--target {f.split('=', 1)[1]}" for f in flags if f.startswith("target=")]
        key = (last["row.threads"], last["row.protocol"], bool(last["row.deterministic"]), r.n,
               int(last["row.side_by_side"]))
        settings.setdefault(key, []).append((r.model, sets))
    commands = []
    for (threads, protocol, deterministic, n, shared), entries in sorted(settings.items(), key=str):
        common = _setting_flags(group, threads, protocol, deterministic, n)
        if shared > 1:  # timed side by side: the same number of jobs per host reproduces it
            common += f" --executor dask --workers {shared}"
        plain = sorted({m for m, sets in entries if not sets})
        if plain:
            if plain == sorted(registry.DEFAULT_SUITE):
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


def _suite_or_empty(name: str) -> list[str]:
    from bench.adapters import registry

    try:
        return registry.suite(name)
    except BenchError:
        return []


def _setting_flags(group: tables.Group, threads, protocol: str, deterministic: bool, n: int) -> str:
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


def _link(path: Path | None, base: Path, text: str) -> str:
    return f"[{text}]({path.relative_to(base).as_posix()})" if path else "-"


def _image(figs: dict, kind: str, alt: str, out_dir: Path) -> list[str]:
    return [f"![{alt}]({figs[kind].relative_to(out_dir).as_posix()})", ""] if kind in figs else []


def render(df, out_dir: Path, plots_dir: Path | None, dataset_loader=figures.load_test_images,
           drawn: list | None = None) -> str:
    """The whole leaderboard Markdown; draws figures into ``plots_dir`` unless it is None,
    appending the path of every figure drawn to ``drawn`` when given."""
    from tabulate import tabulate

    out = ["# Leaderboard", "", "Generated by `python -m bench report` from the run records.", "",
           tables.LEGEND, "", SIGNIFICANCE_NOTE, ""]
    gs = tables.groups(df)
    if not gs:
        return "\n".join(out + ["No run records yet: `python -m bench run --all`.", ""])
    for group in gs:
        out += [f"## {group.title}", ""]
        ok, rows = group.ok, tables.row_stats(group)
        figs = {}
        if rows:
            last = ok.iloc[-1]
            out += [f"Train / validation / test images: {int(last['data.n_train']):,} / {int(last['data.n_val']):,} / "
                    f"{int(last['data.n_test']):,}.", "", tables.markdown(rows), ""]
            notes = tables.provenance_notes(rows)
            out += [*notes, ""] if notes else []
            if plots_dir is not None:
                figs = figures.draw(group, rows, plots_dir, dataset_loader)
                if drawn is not None:
                    drawn += _figure_paths(figs)
                out += _image(figs, "pareto", "accuracy vs inference throughput", out_dir)
                out += _image(figs, "pvalues", "pairwise McNemar p-values", out_dir)
                out += _image(figs, "tta", "validation accuracy against training seconds", out_dir)
                for path in figs.get("sweeps", []):
                    out += [f"![accuracy against a swept hyper-parameter]({path.relative_to(out_dir).as_posix()})", ""]
            out += [class_tables(group, rows), ""]
            if plots_dir is not None:
                out += _image(figs, "f1", "per-class F1", out_dir)
                out += ["Figures per model:", "",
                        tabulate([[r.label,
                                   _link(figs[r.key].get("curves"), out_dir, "training curves"),
                                   _link(figs[r.key].get("confusion"), out_dir, "confusion matrix"),
                                   _link(figs[r.key].get("gallery"), out_dir, "misclassified")]
                                  for r in rows], headers=["model", "curves", "confusion", "mistakes"],
                                 tablefmt="github", disable_numparse=True), ""]
        bad = group.without_result()
        if not bad.empty:
            out += ["Jobs without a result:", "", problems_table(bad), ""]
        out += ["Environment:", "", *environment_lines(group), "", "Reproduce:", "", "```",
                *(reproduce_commands(group, rows) or ["(no ok records)"]), "```", ""]
    return "\n".join(out)


def _figure_paths(figs: dict) -> list[Path]:
    """Every path in ``figures.draw``'s answer (paths, lists of paths, dicts of paths)."""
    out = []
    for value in figs.values():
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        out += [Path(v) for v in items if v is not None]
    return out


def prune_plots(plots_dir: Path, drawn: list[Path]) -> list[Path]:
    """Remove the ``*.png`` files directly in ``plots_dir`` that are not in ``drawn`` (figures
    of rows, tables or names that no longer exist), so the folder holds exactly what the
    leaderboard shows; returns the removed paths. Nothing else there is touched."""
    keep = {Path(p).resolve() for p in drawn}
    stale = [p for p in sorted(Path(plots_dir).glob("*.png")) if p.is_file() and p.resolve() not in keep]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def summary_frame(df):
    """One row per leaderboard row: the numbers behind the tables (pandas DataFrame)."""
    import pandas as pd

    return pd.DataFrame([d for g in tables.groups(df) for d in tables.frame(tables.row_stats(g), g)])


def latex_document(df) -> str:
    parts = ["% generated by `python -m bench report --format latex`; needs \\usepackage{booktabs}"]
    for g in tables.groups(df):
        rows = tables.row_stats(g)
        if rows:
            parts += [tables.latex(rows, f"{g.dataset}, {g.profile} profile, {g.device} ({g.cpu}). "
                                         "Accuracy with 95\\% interval; vs best: paired McNemar mid-p, Holm."), ""]
    return "\n".join(parts)


def readme_section(df) -> str:
    """The summary tables only, for the README between the leaderboard markers."""
    parts = []
    for group in tables.groups(df):
        rows = tables.row_stats(group)
        if rows:
            parts += [f"**{group.title}**", "", tables.markdown(rows), ""]
    parts.append("What each column means, figures and per-class results: "
                 "[results/LEADERBOARD.md](results/LEADERBOARD.md).")
    return "\n".join(parts)


def update_readme(readme: Path, df) -> None:
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise BenchError(f"{readme} has no leaderboard markers; add {README_START} and {README_END} on their own lines")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    atomic.write_text(readme, f"{head}{README_START}\n{readme_section(df)}\n{README_END}{tail}")


def publish(runs_dir: Path, out_dir: Path, plots: bool = True, fmt: str = "md",
            tta_target: float = tables.DEFAULT_TTA_TARGET) -> Path:
    """Write the leaderboard (and figures) for ``runs_dir`` into ``out_dir``; returns the file.
    ``tta_target``: the validation accuracy of the "time to X (val)" column. With figures, the
    ``*.png`` files of ``<out>/plots`` that this publish did not draw are removed.

    Holds ``<out>/.publish.lock`` meanwhile: suites sharing a results folder take turns."""
    if fmt not in FORMATS:
        raise BenchError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    with atomic.locked(out_dir / ".publish.lock"):
        df = records.load(runs_dir)
        df.attrs["tta_target"] = tta_target
        if fmt == "md":
            path = out_dir / "LEADERBOARD.md"
            drawn: list[Path] = []
            atomic.write_text(path, render(df, out_dir, out_dir / "plots" if plots else None, drawn=drawn))
            if plots:  # --no-plots leaves the folder as it is
                prune_plots(out_dir / "plots", drawn)
        elif fmt == "csv":
            path = out_dir / "leaderboard.csv"
            atomic.write_text(path, summary_frame(df).to_csv(index=False, float_format="%.6g"))
        elif fmt == "json":
            path = out_dir / "leaderboard.json"
            rows = [tables.frame(tables.row_stats(g), g) for g in tables.groups(df)]
            atomic.write_text(path, json.dumps([r for group in rows for r in group], indent=1, sort_keys=True,
                                               default=_json_value) + "\n")
        else:
            path = out_dir / "leaderboard.tex"
            atomic.write_text(path, latex_document(df) + "\n")
    return path


def _json_value(v):
    """numpy scalars as plain numbers (anything else unknown to json as null)."""
    return v.item() if hasattr(v, "item") else None


def write_leaderboard(results_dir: Path) -> Path:
    """``publish`` with the default layout: records in ``<results>/runs``."""
    return publish(Path(results_dir) / "runs", Path(results_dir))
