"""Accuracy regression gate: baselines and the comparison against them.

A baseline (``results/baselines/<dataset>-<profile>.json``) holds, per model, the mean test
accuracy and macro-F1 over several seeds and a tolerance derived from their spread:

    tolerance = max(floor, k x standard deviation over seeds)      (defaults: 0.5 pp, k = 3)

with the record ids it came from and the environment. ``compare`` takes the newest records
of the same dataset/profile/device and gives each model a verdict:

    ok          |now - baseline| <= tolerance
    regressed   now < baseline - tolerance                       -> exit 1
    improved    now > baseline + tolerance (passes; hint: update the baseline)
    missing     no ok record for the model, or its job failed     -> exit 1
    data differs  the records' dataset content is not the baseline's -> exit 1

A model whose seeds all gave identical predictions is marked ``seed_independent``: its
zero spread is not measured stability, so its tolerance is the floor and says so. Where the
baseline's own records are at hand (``results/runs`` is committed), the table adds the
paired evidence: test images won and lost against the baseline run of the same seed, and
McNemar's mid-p (``bench.stats.paired``).

Bad input (no baseline, a corrupt one, no records) is a ``BenchError``: exit 2.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench import measure, records
from bench.core import atomic
from bench.core.errors import BenchError
from bench.report import stats

SCHEMA = 1
DEFAULT_FLOOR = 0.005
DEFAULT_K = 3.0


def baseline_path(results_dir: Path, dataset: str, profile: str) -> Path:
    return Path(results_dir) / "baselines" / f"{records.slug(dataset)}-{profile}.json"


def newest(recs: list[dict], dataset: str, profile: str, device: str) -> dict[str, list[dict]]:
    """model -> the newest record of each seed, for one dataset/profile/device, taken only
    from the parameter set of the model's newest record (two configurations never mix)."""
    latest: dict[tuple[str, str, int], dict] = {}
    newest_hash: dict[str, str] = {}
    for r in recs:  # read_all returns oldest first
        j = r["job"]
        if (j["dataset"], j["profile"], j["device"]) == (dataset, profile, device):
            h = records.params_hash(j["params"])
            latest[(j["model"], h, j["seed"])] = r
            newest_hash[j["model"]] = h
    out: dict[str, list[dict]] = {}
    for (model, h, _), r in sorted(latest.items()):
        if h == newest_hash[model]:
            out.setdefault(model, []).append(r)
    return out


def identical_predictions(rs: list[dict]) -> bool:
    """Two or more records whose test predictions and log-loss are all the same."""
    if len(rs) < 2:
        return False
    keys = {(json.dumps(r.get("outcomes") or r["metrics"]["confusion"], sort_keys=True), r["metrics"]["log_loss"])
            for r in rs}
    return len(keys) == 1


def build_baseline(recs: list[dict], dataset: str, profile: str, device: str = "cpu",
                   floor: float = DEFAULT_FLOOR, k: float = DEFAULT_K) -> dict:
    """A baseline from the newest ``ok`` records of every model (several seeds each)."""
    by_model = newest(recs, dataset, profile, device)
    models: dict[str, dict] = {}
    for model, rs in by_model.items():
        bad = [r for r in rs if r["status"] != "ok"]
        if bad:
            raise BenchError(f"cannot build a baseline: {model} seed {bad[0]['job']['seed']} is "
                             f"{bad[0]['status']} ({bad[0]['error']})")
        acc = [r["metrics"]["accuracy"] for r in rs]
        f1 = [r["metrics"]["macro_f1"] for r in rs]
        std = statistics.stdev(acc) if len(acc) > 1 else 0.0
        models[model] = {
            "accuracy": statistics.fmean(acc), "macro_f1": statistics.fmean(f1),
            "accuracy_min": min(acc), "accuracy_max": max(acc), "accuracy_std": std, "n": len(acc),
            "seed_independent": identical_predictions(rs),
            "tolerance": max(floor, k * std),
            "seeds": [r["job"]["seed"] for r in rs], "records": [r["run_id"] for r in rs],
            "params": rs[-1]["job"]["params"],
        }
    if not models:
        raise BenchError(f"no records for {dataset}/{profile}/{device} to build a baseline from")
    last = max((r for rs in by_model.values() for r in rs), key=lambda r: (r["started_at"], r["run_id"]))
    env = last["env"]
    return {
        "schema": SCHEMA, "dataset": dataset, "profile": profile, "device": device,
        "created_at": records.now_iso(),
        "tolerance_rule": f"max({floor:g}, {k:g} x std of accuracy over seeds)",
        "floor": floor, "k": k, "data_digest": last["data"]["digest"],
        "env": {key: env.get(key) for key in ("cpu", "cores", "libraries", "commit", "platform")},
        "models": models,
    }


def write_baseline(path: Path, baseline: dict) -> None:
    atomic.write_json(path, baseline)


def read_baseline(path: Path) -> dict:
    """Load and sanity-check a baseline; ``BenchError`` (exit 2) when missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise BenchError(f"no baseline at {path}; create one with `python -m bench baseline update`")
    try:
        b = json.loads(path.read_text())
        assert b["schema"] == SCHEMA
        for key in ("dataset", "profile", "device"):
            assert isinstance(b[key], str)
        for model, m in b["models"].items():
            assert 0.0 <= float(m["accuracy"]) <= 1.0 and float(m["tolerance"]) >= 0.0, model
    except (OSError, ValueError, KeyError, TypeError, AssertionError, AttributeError) as exc:
        raise BenchError(f"corrupt baseline {path}: {type(exc).__name__} {exc}".strip()) from None
    return b


@dataclass
class Verdict:
    model: str
    baseline: float
    now: float | None
    tolerance: float
    verdict: str  # ok | regressed | improved | missing | data differs
    note: str = ""
    paired: stats.Paired | None = None  # against the baseline's own records, seed with seed

    @property
    def delta(self) -> float | None:
        return None if self.now is None else self.now - self.baseline

    @property
    def fails(self) -> bool:
        return self.verdict in ("regressed", "missing", "data differs")


def _masks(rs: list[dict]) -> dict[int, object]:
    return {int(r["job"]["seed"]): measure.correct_mask(r["outcomes"]) for r in rs
            if isinstance(r.get("outcomes"), dict)}


def compare(baseline: dict, recs: list[dict], only: list[str] | None = None,
            baseline_recs: list[dict] | None = None) -> list[Verdict]:
    """A verdict per baseline model (or per model in ``only``) from the newest records;
    ``baseline_recs`` (records holding the baseline's run ids) add the paired evidence."""
    by_id = {r["run_id"]: r for r in baseline_recs or []}
    by_model = newest(recs, baseline["dataset"], baseline["profile"], baseline["device"])
    names = only or sorted(baseline["models"])
    unknown = [m for m in names if m not in baseline["models"]]
    if unknown:
        raise BenchError(f"not in the baseline: {', '.join(unknown)}; it has: {', '.join(sorted(baseline['models']))}")
    out = []
    for model in names:
        b = baseline["models"][model]
        rs = by_model.get(model, [])
        ok = [r for r in rs if r["status"] == "ok"]
        if not rs or len(ok) < len(rs):
            why = "no record" if not rs else f"{rs[-1]['status']}: {rs[-1]['error']}"
            out.append(Verdict(model, b["accuracy"], None, b["tolerance"], "missing", why))
            continue
        now = statistics.fmean(r["metrics"]["accuracy"] for r in ok)
        base_recs = [by_id[i] for i in b.get("records", []) if i in by_id]
        paired = stats.paired(_masks(base_recs), _masks(ok)) if base_recs else None
        digests = {r["data"].get("digest") for r in ok}
        if baseline.get("data_digest") and digests != {baseline["data_digest"]}:
            out.append(Verdict(model, b["accuracy"], now, b["tolerance"], "data differs",
                               "the records were measured on other data than the baseline", paired))
            continue
        delta = now - b["accuracy"]
        verdict = "ok" if abs(delta) <= b["tolerance"] + 1e-12 else ("regressed" if delta < 0 else "improved")
        note = "update the baseline: `python -m bench baseline update`" if verdict == "improved" else ""
        if b.get("seed_independent"):
            note = (note + "; " if note else "") + "seed-independent: tolerance is the floor, not a measured spread"
        changed = sorted(k for k in set(b["params"]) | set(ok[-1]["job"]["params"])
                         if b["params"].get(k) != ok[-1]["job"]["params"].get(k))
        if changed:
            note = (note + "; " if note else "") + "hyper-parameters differ: " + ", ".join(changed)
        out.append(Verdict(model, b["accuracy"], now, b["tolerance"], verdict, note, paired))
    return out


def table(verdicts: list[Verdict]) -> str:
    """GitHub-Markdown table of the verdicts (percentages)."""
    from tabulate import tabulate

    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}%"

    def evidence(p: stats.Paired | None) -> list[str]:
        if p is None:
            return ["-", "-"]
        return [f"+{p.won} / -{p.lost}", stats.format_p(p.p)]

    rows = [[v.model, pct(v.baseline), pct(v.now), "-" if v.delta is None else f"{100 * v.delta:+.2f} pp",
             f"±{100 * v.tolerance:.2f} pp", *evidence(v.paired), v.verdict.upper() if v.fails else v.verdict,
             v.note.replace("|", "\\|")]
            for v in verdicts]
    return tabulate(rows, headers=["model", "baseline", "now", "delta", "tolerance", "images won / lost",
                                   "McNemar", "verdict", "note"], tablefmt="github", disable_numparse=True)
