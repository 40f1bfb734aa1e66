"""Publishable leaderboards built from stored run records (pandas + tabulate + matplotlib).

``publish(runs_dir, out_dir)`` reads the records and writes ``<out>/LEADERBOARD.md`` and
the figures under ``<out>/plots/``. Per (dataset, profile, device) group:

- a summary table, one row per model from the newest record of each (model, seed); several
  seeds are shown as mean ± std with n; the best value of each column is in bold; reference
  models (tutorial reproductions) are marked "(ref)" with their published accuracy beside;
- accuracy against inference throughput (Pareto front marked) and per-class F1 bars;
- per-class F1 per model, and each model's three most-confused class pairs;
- per model: training curves (neural models), confusion heatmap, misclassified gallery;
- jobs whose newest record is not ``ok`` (failed, timed out, skipped) with their reason;
- the environment and the exact command to reproduce.

The same records give the same bytes: sorted rows, fixed float formats, no clock.
``summary_frame`` is the machine-readable view behind ``--format csv|json``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import atomic, records

GROUP = ["job.dataset", "job.profile", "job.device"]
KEY = ["job.dataset", "job.profile", "job.device", "job.model", "job.seed"]
README_START, README_END = "<!-- leaderboard:start -->", "<!-- leaderboard:end -->"
GALLERY_SIZE = 32

# column -> (header, higher is better, format)
COLUMNS = {
    "accuracy": ("accuracy %", True, ".2f"),
    "macro_f1": ("macro-F1 %", True, ".2f"),  # (reference rows get "published %" before this)
    "params": ("params", False, ",.0f"),
    "size_mb": ("size MB", False, ".2f"),
    "fit_s": ("fit s", False, ".1f"),
    "train_ips": ("train img/s", True, ",.0f"),
    "infer_ips": ("infer img/s", True, ",.0f"),
    "p50_ms": ("p50 ms", False, ".2f"),
    "p99_ms": ("p99 ms", False, ".2f"),
}


def latest_per_job(df):
    """The newest record of each (dataset, profile, device, model, seed)."""
    df = df.sort_values(["started_at", "run_id"])
    return df.groupby(KEY, sort=True, dropna=False).tail(1)


@dataclass
class Group:
    dataset: str
    profile: str
    device: str
    frame: object  # the latest records of this group (pandas DataFrame)

    @property
    def slug(self) -> str:
        return records.slug(f"{self.dataset}-{self.profile}-{self.device}")

    @property
    def title(self) -> str:
        return f"{self.dataset} · {self.profile} profile · {self.device}"

    @property
    def ok(self):
        return self.frame[self.frame["status"] == "ok"]


def groups(df) -> list[Group]:
    if df.empty:
        return []
    latest = latest_per_job(df)
    return [Group(d, p, v, g) for (d, p, v), g in latest.groupby(GROUP, sort=True)]


def _column(g, name):
    return g[name].astype(float) if name in g.columns else None


def _large_batch_column(g) -> str | None:
    cols = sorted(c for c in g.columns if c.startswith("timing.inference.batch_") and c.endswith(".images_per_s")
                  and not c.startswith("timing.inference.batch_1."))
    return cols[0] if cols else None


def model_stats(ok) -> list[dict]:
    """Per model: the mean and std (over seeds) of every summary column, sorted by accuracy."""
    infer_col = _large_batch_column(ok)
    sources = {
        "accuracy": ("metrics.accuracy", 100), "macro_f1": ("metrics.macro_f1", 100), "params": ("size.total", 1),
        "size_mb": ("size.bytes", 1e-6), "fit_s": ("timing.fit_s", 1), "train_ips": ("timing.train_images_per_s", 1),
        "infer_ips": (infer_col, 1), "p50_ms": ("timing.inference.batch_1.latency_ms_p50", 1),
        "p99_ms": ("timing.inference.batch_1.latency_ms_p99", 1),
    }
    out = []
    for model, g in ok.groupby("job.model", sort=True):
        published = g["reference.accuracy"].dropna() if "reference.accuracy" in g.columns else []
        row = {"model": model, "family": g["job.family"].iloc[-1], "n": len(g),
               "published": 100 * float(published.iloc[-1]) if len(published) else None}
        for key, (col, scale) in sources.items():
            vals = _column(g, col) if col else None
            vals = vals.dropna() * scale if vals is not None else []
            row[key] = float(vals.mean()) if len(vals) else None
            row[key + "_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else None
        out.append(row)
    out.sort(key=lambda r: (-(r["accuracy"] or 0), r["model"]))
    return out


def _best(stats, key, higher) -> float | None:
    vals = [r[key] for r in stats if r[key] is not None]
    return (max(vals) if higher else min(vals)) if vals else None


def summary_table(stats: list[dict]) -> str:
    from tabulate import tabulate

    best = {k: _best(stats, k, hi) for k, (_, hi, _) in COLUMNS.items()}
    with_published = any(r["published"] is not None for r in stats)
    rows = []
    for r in stats:
        reference = r["published"] is not None
        row = {"model": r["model"] + (" (ref)" if reference else ""), "family": r["family"], "n": str(r["n"])}
        for key, (header, _, fmt) in COLUMNS.items():
            if key == "macro_f1" and with_published:  # published figure right beside the measured one
                row["published %"] = f"{r['published']:.2f}" if reference else "-"
            v = r[key]
            if v is None:
                row[header] = "-"
                continue
            text = format(v, fmt)
            if r[key + "_std"] is not None and key not in ("params", "size_mb"):
                text += f" ± {format(r[key + '_std'], fmt)}"
            row[header] = f"**{text}**" if format(v, fmt) == format(best[key], fmt) and len(stats) > 1 else text
        rows.append(row)
    return tabulate(rows, headers="keys", tablefmt="github", disable_numparse=True)


def per_class_f1(ok) -> dict[str, list[float]]:
    """model -> F1 (%) for classes 0..9, averaged over seeds."""
    out = {}
    for model, g in ok.groupby("job.model", sort=True):
        per = [[rec[str(c)]["f1"] for c in range(10)] for rec in g["metrics.per_class"]]
        out[model] = (100 * np.mean(per, axis=0)).tolist()
    return out


def confusion_sum(g) -> np.ndarray:
    return np.sum([np.asarray(c) for c in g["metrics.confusion"]], axis=0)


def most_confused(cm: np.ndarray, k: int = 3) -> list[tuple[int, int, int]]:
    """The k largest off-diagonal cells as (true, predicted, count); ties by (true, pred)."""
    cells = [(int(cm[i, j]), i, j) for i in range(cm.shape[0]) for j in range(cm.shape[1]) if i != j and cm[i, j]]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(i, j, n) for n, i, j in cells[:k]]


def class_tables(ok, stats) -> str:
    from tabulate import tabulate

    f1 = per_class_f1(ok)
    order = [r["model"] for r in stats]
    f1_rows = [[m, *(f"{v:.2f}" for v in f1[m])] for m in order]
    confused = []
    for m in order:
        pairs = most_confused(confusion_sum(ok[ok["job.model"] == m]))
        confused.append([m, *(f"{t} → {p} ({n})" for t, p, n in pairs), *["-"] * (3 - len(pairs))])
    return "\n".join([
        "Per-class F1 (%), mean over seeds:", "",
        tabulate(f1_rows, headers=["model", *map(str, range(10))], tablefmt="github", disable_numparse=True), "",
        "Most confused pairs (true → predicted, test images summed over seeds):", "",
        tabulate(confused, headers=["model", "1st", "2nd", "3rd"], tablefmt="github", disable_numparse=True),
    ])


def problems_table(bad) -> str:
    from tabulate import tabulate

    rows = [{"model": r["job.model"], "device": r["job.device"], "seed": int(r["job.seed"]), "status": r["status"],
             "reason": " ".join(str(r["error"] or "").split()).replace("|", "\\|")[:160]}
            for _, r in bad.sort_values(["job.model", "job.device", "job.seed"]).iterrows()]
    return tabulate(rows, headers="keys", tablefmt="github", disable_numparse=True)


def environment_lines(g) -> list[str]:
    """The newest record's environment (records keep ``env`` as one dict column)."""
    envs = [e for e in g.sort_values(["started_at", "run_id"])["env"] if isinstance(e, dict) and e]
    if not envs:
        return ["- not recorded"]
    env = envs[-1]
    lines = [f"- CPU: {env.get('cpu', '?')}, {env.get('cores', '?')} cores, {env.get('memory_gib', '?')} GiB RAM"]
    gpus = env.get("gpus") or []
    lines.append(f"- GPU: {', '.join(x['name'] for x in gpus) if gpus else 'none'}")
    libs = env.get("libraries") or {}
    if libs:
        lines.append("- Libraries: " + ", ".join(f"{k} {v}" for k, v in sorted(libs.items())))
    if env.get("commit"):
        dirty = " (uncommitted changes)" if env.get("dirty") else ""
        lines.append(f"- Code: commit `{env['commit'][:12]}`{dirty}")
    return lines


def reproduce_command(g) -> str:
    import models

    names = sorted(g["job.model"].unique())
    dataset, profile, device = g["job.dataset"].iloc[0], g["job.profile"].iloc[0], g["job.device"].iloc[0]
    which = "--all" if sorted(models.DEFAULT_SUITE) == names else " ".join(names)
    cmd = f"python -m bench run {which}"
    if dataset != "mnist":
        cmd += f" --dataset {dataset}"
    if profile != "full":
        cmd += f" --profile {profile}"
    if device != "cpu":
        cmd += f" --device {device}"
    seeds = int(g["job.seed"].max()) + 1
    cmd += f" --seeds {seeds}" if seeds > 1 else ""
    for model in names:  # hyper-parameters that differ from the adapter's defaults
        try:
            defaults = models.get(model).defaults[profile]
        except Exception:  # a model no longer registered: show what ran, best effort
            defaults = {}
        params = g[g["job.model"] == model].iloc[-1]["job.params"]
        for key in sorted(params):
            if key not in defaults or params[key] != defaults[key]:
                cmd += f" --set {model}.{key}={params[key]}"
    if bool(g["job.deterministic"].fillna(False).any()) if "job.deterministic" in g.columns else False:
        cmd += " --deterministic"
    return cmd


# --- figures -------------------------------------------------------------------------


def figures_for(group: Group, stats, plots_dir: Path, dataset_loader) -> dict:
    """Draw the group's figures; returns {"pareto": path, "f1": path, model: {kind: path}}."""
    from bench import plots

    ok = group.ok
    out: dict = {}
    usable = [r for r in stats if r["infer_ips"] and r["accuracy"] is not None]
    if usable:
        out["pareto"] = plots.accuracy_vs_throughput(
            [r["model"] for r in usable], [r["infer_ips"] for r in usable], [r["accuracy"] for r in usable],
            f"Accuracy vs inference throughput — {group.title}", plots_dir / f"{group.slug}-pareto.png")
    f1 = per_class_f1(ok)
    order = [r["model"] for r in stats]
    out["f1"] = plots.per_class_f1(order, [f1[m] for m in order], f"Per-class F1 — {group.title}",
                                   plots_dir / f"{group.slug}-f1.png")
    images = dataset_loader(group.dataset, ok["data.digest"].iloc[-1])
    for model in order:
        g = ok[ok["job.model"] == model].sort_values("job.seed")
        first = g.iloc[0]
        figs = {}
        history = first["history"]
        if isinstance(history, list) and any("loss" in row or "val_loss" in row for row in history):
            figs["curves"] = plots.training_curves(
                history, f"{model} — {group.title} (seed {int(first['job.seed'])})",
                plots_dir / f"{group.slug}-{model}-curves.png")
        figs["confusion"] = plots.confusion_heatmap(
            confusion_sum(g), f"{model} — {group.dataset} test set", plots_dir / f"{group.slug}-{model}-confusion.png")
        mistakes = first.get("mistakes") if "mistakes" in g.columns else None
        if images is not None and isinstance(mistakes, list) and mistakes:
            shown = mistakes[:GALLERY_SIZE]
            figs["gallery"] = plots.mistakes_gallery(
                [images[i] for i, *_ in shown], [f"{t} → {p} ({c:.2f})" for _, t, p, c in shown],
                f"{model}: most confident mistakes (true → predicted, probability), seed {int(first['job.seed'])}",
                plots_dir / f"{group.slug}-{model}-mistakes.png")
        out[model] = figs
    return out


def load_test_images(dataset: str, digest: str):
    """The dataset's test images if it can be loaded here and is the one the records used."""
    from bench import data
    from bench.errors import BenchError

    try:
        splits = data.load(dataset).splits
    except BenchError as exc:
        print(f"warning: no mistake galleries for {dataset}: {exc}", file=sys.stderr)
        return None
    if splits.digest() != digest:
        print(f"warning: no mistake galleries for {dataset}: its content differs from the recorded one",
              file=sys.stderr)
        return None
    return splits.x_test


# --- the document ----------------------------------------------------------------------


def _link(path: Path | None, base: Path, text: str) -> str:
    return f"[{text}]({path.relative_to(base).as_posix()})" if path else "-"


def render(df, out_dir: Path, plots_dir: Path | None, dataset_loader=load_test_images) -> str:
    """The whole leaderboard Markdown; draws figures into ``plots_dir`` unless it is None."""
    from tabulate import tabulate

    out = ["# Leaderboard", "",
           "Generated by `python -m bench report` from the run records. Accuracy and macro-F1 on the "
           "test set; params and size of the fitted model; fit s is the training wall time; train img/s "
           "is steady state (epochs after the first); infer img/s is the median throughput at a large "
           "batch; p50/p99 are batch-1 latencies. Best value per column in bold; ± is the standard "
           "deviation over n seeds.", ""]
    gs = groups(df)
    if not gs:
        return "\n".join(out + ["No run records yet: `python -m bench run --all`.", ""])
    for group in gs:
        out += [f"## {group.title}", ""]
        ok, stats = group.ok, model_stats(group.ok)
        figs = {}
        if not ok.empty:
            last = ok.iloc[-1]
            out += [f"Train / validation / test images: {int(last['data.n_train']):,} / {int(last['data.n_val']):,} / "
                    f"{int(last['data.n_test']):,}.", "", summary_table(stats), ""]
            if plots_dir is not None:
                figs = figures_for(group, stats, plots_dir, dataset_loader)
                if "pareto" in figs:
                    out += [f"![accuracy vs inference throughput]({figs['pareto'].relative_to(out_dir).as_posix()})", ""]
            out += [class_tables(ok, stats), ""]
            if plots_dir is not None:
                out += [f"![per-class F1]({figs['f1'].relative_to(out_dir).as_posix()})", "",
                        "Figures per model:", "",
                        tabulate([[r["model"],
                                   _link(figs[r["model"]].get("curves"), out_dir, "training curves"),
                                   _link(figs[r["model"]].get("confusion"), out_dir, "confusion matrix"),
                                   _link(figs[r["model"]].get("gallery"), out_dir, "misclassified")]
                                  for r in stats], headers=["model", "curves", "confusion", "mistakes"],
                                 tablefmt="github", disable_numparse=True), ""]
        bad = group.frame[group.frame["status"] != "ok"]
        if not bad.empty:
            out += ["Jobs without a result:", "", problems_table(bad), ""]
        out += ["Environment:", "", *environment_lines(group.frame), "", "Reproduce:", "", "```",
                reproduce_command(group.frame), "```", ""]
    return "\n".join(out)


def summary_frame(df):
    """One row per (dataset, profile, device, model): the numbers behind the summary tables."""
    import pandas as pd

    rows = []
    for group in groups(df):
        for r in model_stats(group.ok):
            rows.append({"dataset": group.dataset, "profile": group.profile, "device": group.device, **r})
    return pd.DataFrame(rows)


def readme_section(df) -> str:
    """The summary tables only, for the README between the leaderboard markers."""
    parts = []
    for group in groups(df):
        if not group.ok.empty:
            parts += [f"**{group.title}**", "", summary_table(model_stats(group.ok)), ""]
    parts.append("Full tables, per-class results and figures: [results/LEADERBOARD.md](results/LEADERBOARD.md).")
    return "\n".join(parts)


def update_readme(readme: Path, df) -> None:
    from bench.errors import BenchError

    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise BenchError(f"{readme} has no leaderboard markers; add {README_START} and {README_END} on their own lines")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    atomic.write_text(readme, f"{head}{README_START}\n{readme_section(df)}\n{README_END}{tail}")


def publish(runs_dir: Path, out_dir: Path, plots: bool = True, fmt: str = "md") -> Path:
    """Write the leaderboard (and figures) for ``runs_dir`` into ``out_dir``; returns the file.

    Holds ``<out>/.publish.lock`` meanwhile: suites sharing a results folder take turns."""
    out_dir = Path(out_dir)
    with atomic.locked(out_dir / ".publish.lock"):
        return _publish(Path(runs_dir), out_dir, plots, fmt)


def _publish(runs_dir: Path, out_dir: Path, plots: bool, fmt: str) -> Path:
    df = records.load(runs_dir)
    if fmt == "md":
        path = out_dir / "LEADERBOARD.md"
        atomic.write_text(path, render(df, out_dir, out_dir / "plots" if plots else None))
    elif fmt == "csv":
        path = out_dir / "leaderboard.csv"
        atomic.write_text(path, summary_frame(df).to_csv(index=False, float_format="%.6g"))
    elif fmt == "json":
        path = out_dir / "leaderboard.json"
        atomic.write_text(path, json.dumps(summary_frame(df).to_dict(orient="records"), indent=1, sort_keys=True,
                                           default=lambda v: None) + "\n")
    else:
        from bench.errors import BenchError

        raise BenchError(f"unknown format {fmt!r}; choose from: md, csv, json")
    return path


def write_leaderboard(results_dir: Path) -> Path:
    """``publish`` with the default layout: records in ``<results>/runs``."""
    return publish(Path(results_dir) / "runs", Path(results_dir))
