"""Accuracy regression gate: baselines and the comparison against them.

A baseline (``results/baselines/<dataset>-<profile>.json``) holds, per model, the mean test
accuracy and macro-F1 over n seeds, their standard deviation s, and the tolerance for one new
seed, with the record ids it came from and the environment. The tolerance is a prediction
interval (``bench.gate.tolerance``): for the mean of the m seeds checked,

    tolerance = max(floor, t(1 - alpha/2, n - 1) x s x sqrt(1/m + 1/n))   (0.5 pp, alpha = 1%)

so an unchanged model fails alpha/2 = 0.5% of the time; the floor alone for n < 2 or a
seed-independent model. A schema-1 file (max(floor, 3 s)) is upgraded when read.
``compare`` takes the newest records of the same dataset/profile/device and gives each model
a verdict:

    ok          |now - baseline| <= tolerance
    regressed   now < baseline - tolerance                       -> exit 1
    improved    now > baseline + tolerance (passes; hint: update the baseline)
    missing     no ok record for the model, or its job failed     -> exit 1
    data differs  the records' dataset content is not the baseline's -> exit 1

A model whose seeds all gave identical predictions is marked ``seed_independent``: its
zero spread is not measured stability, so its tolerance is the floor and says so. Where the
baseline's own records are at hand (``results/runs`` is committed) and were measured on the
same test set (``outcomes.test_digest``) as the checked ones, the table adds the
paired evidence: test images won and lost against the baseline run of the same seed, and
its p (``bench.analysis.stats.paired``: the per-writer sign-flip test on MNIST's test set, McNemar's
mid-p elsewhere; the largest over seed pairs when they all point the same way; 1, with the
per-seed counts, when seeds disagree), and ``speed_pairs`` pairs them
with the checked records for the speed verdicts (``bench.analysis.speed``).

Bad input (no baseline, a corrupt one, no records) is a ``BenchError``: exit 2.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench import measure, records
from bench.analysis import speed, stats
from bench.analysis.compare import describe
from bench.core import atomic
from bench.core.errors import BenchError
from bench.data import writers
from bench.gate import tolerance as tol
from bench.records import identity

SCHEMA = tol.SCHEMA
DEFAULT_FLOOR = tol.FLOOR
DEFAULT_ALPHA = tol.ALPHA
# a baseline judges accuracy on any machine: THE identity less how a job ran (threads,
# inference protocol, hardware, GPU)
SCOPE = identity.SPEED_ONLY


def baseline_path(results_dir: Path, dataset: str, profile: str) -> Path:
    return Path(results_dir) / "baselines" / f"{records.slug(dataset)}-{profile}.json"


def newest(
    recs: list[dict], dataset: str, profile: str, device: str, prefer: dict[str, dict] | None = None
) -> dict[str, list[dict]]:
    """model -> the newest record of each seed of ONE configuration of the model on
    dataset/profile/device: the one whose identity (``configuration``) is ``prefer[model]``
    when the records hold it (the baseline's own configuration), else the model's newest.
    A configuration is THE identity (``bench.records.identity``) less ``SCOPE``: two
    configurations (grid points, other data) never mix."""
    mine = [
        r
        for r in recs
        if (r["job"]["dataset"], r["job"]["profile"], r["job"]["device"])
        == (dataset, profile, device)
    ]
    out: dict[str, tuple[tuple, list[dict]]] = {}
    for by_seed in identity.newest_per_seed(mine, SCOPE, ok_only=False).values():
        rs = [by_seed[s] for s in sorted(by_seed)]
        model = rs[0]["job"]["model"]
        wanted = (prefer or {}).get(model)
        rank = (
            wanted is not None and configuration(rs[0]) == wanted,
            max((r["started_at"], r["run_id"]) for r in rs),
        )
        if model not in out or rank > out[model][0]:
            out[model] = (rank, rs)
    return {model: rs for model, (_, rs) in sorted(out.items())}


# identity fields newer than some baselines, with the value every record before them had
IDENTITY_DEFAULTS = {
    "precision": "fp32",
    "source": None,
    "val_split": "images",
    "runtime": "native",
}


def configuration(rec: dict) -> dict:
    """The identity fields a baseline keeps for a model (``SCOPE`` left out)."""
    return {k: v for k, v in identity.of_record(rec).as_dict().items() if k not in SCOPE}


def identical_predictions(rs: list[dict]) -> bool:
    """Two or more records whose test predictions and log-loss are all the same."""
    if len(rs) < 2:
        return False
    keys = {
        (
            json.dumps(r.get("outcomes") or r["metrics"]["confusion"], sort_keys=True),
            r["metrics"]["log_loss"],
        )
        for r in rs
    }
    return len(keys) == 1


def build_baseline(
    recs: list[dict],
    dataset: str,
    profile: str,
    device: str = "cpu",
    floor: float = DEFAULT_FLOOR,
    alpha: float = DEFAULT_ALPHA,
    only: list[str] | None = None,
) -> dict:
    """A baseline from the newest ``ok`` records of every model (several seeds each), or of
    the models in ``only`` (each must have records); each entry's ``tolerance`` is the one for
    one new seed (``bench.gate.tolerance``)."""
    by_model = newest(recs, dataset, profile, device)
    if only:
        absent = [m for m in only if m not in by_model]
        if absent:
            raise BenchError(
                f"no records of {', '.join(absent)} for {dataset}/{profile}/{device} to build a "
                "baseline from"
            )
        by_model = {m: rs for m, rs in by_model.items() if m in only}
    models: dict[str, dict] = {}
    for model, rs in by_model.items():
        bad = [r for r in rs if r["status"] != "ok"]
        if bad:
            raise BenchError(
                f"cannot build a baseline: {model} seed {bad[0]['job']['seed']} is "
                f"{bad[0]['status']} ({bad[0]['error']})"
            )
        acc = [r["metrics"]["accuracy"] for r in rs]
        f1 = [r["metrics"]["macro_f1"] for r in rs]
        std = statistics.stdev(acc) if len(acc) > 1 else 0.0
        same = identical_predictions(rs)
        models[model] = {
            "accuracy": statistics.fmean(acc),
            "macro_f1": statistics.fmean(f1),
            "accuracy_min": min(acc),
            "accuracy_max": max(acc),
            "accuracy_std": std,
            "n": len(acc),
            "seed_independent": same,
            "tolerance": float(tol.tolerance(std, len(acc), 1, alpha, floor, same)),
            "seeds": [r["job"]["seed"] for r in rs],
            "records": [r["run_id"] for r in rs],
            "params": rs[-1]["job"]["params"],
            "identity": configuration(rs[-1]),
        }
    if not models:
        raise BenchError(f"no records for {dataset}/{profile}/{device} to build a baseline from")
    last = max(
        (r for rs in by_model.values() for r in rs), key=lambda r: (r["started_at"], r["run_id"])
    )
    env = last["env"]
    return {
        "schema": SCHEMA,
        "dataset": dataset,
        "profile": profile,
        "device": device,
        "created_at": records.now_iso(),
        "tolerance_rule": tol.rule_text(alpha, floor),
        "floor": floor,
        "alpha": alpha,
        "false_failure_rate": tol.false_failure_rate(alpha),
        "data_digest": last["data"]["digest"],
        "env": {key: env.get(key) for key in ("cpu", "cores", "libraries", "commit", "platform")},
        "models": models,
    }


def write_baseline(path: Path, baseline: dict) -> None:
    atomic.write_json(path, baseline)


MERGE_KEYS = ("dataset", "profile", "device", "data_digest", "floor", "alpha")


def check_mergeable(old: dict, new: dict) -> None:
    """``BenchError`` unless ``old`` agrees with ``new`` on every ``MERGE_KEYS`` field that
    ``new`` holds (``baseline update MODEL`` asks with the request's fields before training)."""
    differ = [key for key in MERGE_KEYS if key in new and old.get(key) != new[key]]
    if differ:
        raise BenchError(
            f"cannot keep the other models of the existing baseline: its {', '.join(differ)} "
            "differ from this update's; rebuild it whole: `baseline update` without model names"
        )


def merge_baseline(old: dict, new: dict) -> dict:
    """``new`` plus every model of ``old`` that ``new`` does not rebuild: what ``baseline
    update MODEL`` writes over an existing baseline (one entry refreshed, the others kept).
    Both must agree on ``MERGE_KEYS`` (same data by content digest, same tolerance rule);
    otherwise a ``BenchError``, since the kept entries would no longer mean what they say."""
    check_mergeable(old, {key: new.get(key) for key in MERGE_KEYS})
    kept = {m: e for m, e in old["models"].items() if m not in new["models"]}
    return {**new, "models": dict(sorted({**kept, **new["models"]}.items()))}


def read_baseline(path: Path) -> dict:
    """Load and sanity-check a baseline, a schema-1 file upgraded (``tolerance.upgrade``);
    ``BenchError`` (exit 2) when missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise BenchError(
            f"no baseline at {path}; create one with `python -m bench baseline update`"
        )
    try:
        b = json.loads(path.read_text())
        assert b["schema"] in (1, SCHEMA)
        for key in ("dataset", "profile", "device"):
            assert isinstance(b[key], str)
        for model, m in b["models"].items():
            assert 0.0 <= float(m["accuracy"]) <= 1.0 and float(m["tolerance"]) >= 0.0, model
    except (OSError, ValueError, KeyError, TypeError, AssertionError, AttributeError) as exc:
        raise BenchError(f"corrupt baseline {path}: {type(exc).__name__} {exc}".strip()) from None
    b = tol.upgrade(b)
    for m in b[
        "models"
    ].values():  # identity fields added since the file was written, at their old value
        if isinstance(m.get("identity"), dict):
            m["identity"] = {**IDENTITY_DEFAULTS, **m["identity"]}
    return b


@dataclass
class Verdict:
    model: str
    baseline: float
    now: float | None
    tolerance: float
    verdict: str  # ok | regressed | improved | missing | diverged | data differs
    note: str = ""
    paired: stats.Paired | None = None  # against the baseline's own records, seed with seed
    seeds: int = 0  # m: how many checked seeds ``now`` is the mean of (the tolerance is for that m)

    @property
    def delta(self) -> float | None:
        return None if self.now is None else self.now - self.baseline

    @property
    def fails(self) -> bool:
        return self.verdict in ("regressed", "missing", "diverged", "data differs")


def _masks(rs: list[dict]) -> dict[int, object]:
    return {
        int(r["job"]["seed"]): measure.correct_mask(r["outcomes"])
        for r in rs
        if isinstance(r.get("outcomes"), dict)
    }


def _test_digests(rs: list[dict]) -> set:
    """The test-set digests of the records' per-image outcomes (None for a record without)."""
    return {
        r["outcomes"].get("test_digest") if isinstance(r.get("outcomes"), dict) else None
        for r in rs
    }


def paired_evidence(base_recs: list[dict], ok: list[dict]) -> stats.Paired | None:
    """The paired test seed with seed (``stats.paired``, writers the unit on MNIST's test set)
    between the baseline's own records and the checked ones, only when every record on both sides holds outcomes on one and the same
    test set (one ``test_digest``); None otherwise (other data is not paired image by image)."""
    digests = _test_digests(base_recs) | _test_digests(ok)
    if not base_recs or not ok or len(digests) != 1 or None in digests:
        return None
    masks = _masks(ok)
    groups = writers.test_groups(digests.pop(), len(next(iter(masks.values()))) if masks else None)
    return stats.paired(_masks(base_recs), masks, groups)


def compare(
    baseline: dict,
    recs: list[dict],
    only: list[str] | None = None,
    baseline_recs: list[dict] | None = None,
) -> list[Verdict]:
    """A verdict per baseline model (or per model in ``only``) from its records of the
    baseline's configuration (or, where none hold it, of its newest one, with a note saying
    what differs);
    ``baseline_recs`` (records holding the baseline's run ids) add the paired evidence."""
    by_id = {r["run_id"]: r for r in baseline_recs or []}
    prefer = {
        m: b["identity"]
        for m, b in baseline["models"].items()
        if isinstance(b.get("identity"), dict)
    }
    by_model = newest(recs, baseline["dataset"], baseline["profile"], baseline["device"], prefer)
    names = only or sorted(baseline["models"])
    unknown = [m for m in names if m not in baseline["models"]]
    if unknown:
        raise BenchError(
            f"not in the baseline: {', '.join(unknown)}; it has: {', '.join(sorted(baseline['models']))}"
        )
    out = []
    for model in names:
        b = baseline["models"][model]
        rs = by_model.get(model, [])
        ok = [r for r in rs if r["status"] == "ok"]
        if not rs or len(ok) < len(rs):  # a diverged seed has an accuracy, but no result to gate on
            bad = next((r for r in rs if r["status"] != "ok"), None)
            why = (
                "no record"
                if bad is None
                else f"seed {bad['job']['seed']} {bad['status']}: {bad['error']}"
            )
            verdict = "diverged" if bad is not None and bad["status"] == "diverged" else "missing"
            out.append(Verdict(model, b["accuracy"], None, b["tolerance"], verdict, why))
            continue
        now = statistics.fmean(r["metrics"]["accuracy"] for r in ok)
        tolerance = tol.of_entry(
            b, len(ok), baseline.get("alpha", DEFAULT_ALPHA), baseline.get("floor", DEFAULT_FLOOR)
        )
        digests = {r["data"].get("digest") for r in ok}
        if baseline.get("data_digest") and digests != {baseline["data_digest"]}:
            out.append(
                Verdict(
                    model,
                    b["accuracy"],
                    now,
                    tolerance,
                    "data differs",
                    "the records were measured on other data than the baseline: no paired evidence",
                )
            )
            continue
        paired = paired_evidence([by_id[i] for i in b.get("records", []) if i in by_id], ok)
        delta = now - b["accuracy"]
        verdict = (
            "ok" if abs(delta) <= tolerance + 1e-12 else ("regressed" if delta < 0 else "improved")
        )
        note = (
            "update the baseline: `python -m bench baseline update`"
            if verdict == "improved"
            else ""
        )
        if b.get("seed_independent"):
            note = (
                note + "; " if note else ""
            ) + "seed-independent: tolerance is the floor, not a measured spread"
        changed = sorted(
            k
            for k in set(b["params"]) | set(ok[-1]["job"]["params"])
            if b["params"].get(k) != ok[-1]["job"]["params"].get(k)
        )
        if changed:
            note = (note + "; " if note else "") + "hyper-parameters differ: " + ", ".join(changed)
        other = [
            k
            for k, v in (b.get("identity") or {}).items()
            if k not in ("params_hash", "data_digest") and configuration(ok[-1]).get(k) != v
        ]
        if other:
            note = (note + "; " if note else "") + "configuration differs: " + ", ".join(other)
        out.append(Verdict(model, b["accuracy"], now, tolerance, verdict, note, paired, len(ok)))
    return out


def speed_pairs(
    baseline: dict,
    recs: list[dict],
    only: list[str] | None = None,
    baseline_recs: list[dict] | None = None,
) -> list[speed.Pair]:
    """Per model checked (``only``, else every baseline model): the baseline's own records
    (found by run id in ``baseline_recs``) and the ``ok`` records its verdict rests on (the
    ones ``compare`` judges), seed -> record each, for ``speed.compare_speed``. Models without
    records on either side are left out."""
    by_id = {r["run_id"]: r for r in baseline_recs or []}
    prefer = {
        m: b["identity"]
        for m, b in baseline["models"].items()
        if isinstance(b.get("identity"), dict)
    }
    by_model = newest(recs, baseline["dataset"], baseline["profile"], baseline["device"], prefer)
    pairs = []
    for model in only or sorted(baseline["models"]):
        base = [by_id[i] for i in baseline["models"][model].get("records", []) if i in by_id]
        now = [r for r in by_model.get(model, []) if r["status"] == "ok"]
        if base and now:
            label, where = describe(now[-1])
            pairs.append(
                speed.Pair(
                    label,
                    where,
                    {identity.seed(r): r for r in base},
                    {identity.seed(r): r for r in now},
                )
            )
    return pairs


def table(verdicts: list[Verdict]) -> str:
    """GitHub-Markdown table of the verdicts (percentages); ``legend`` says what the tolerance is."""
    from tabulate import tabulate

    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}%"

    def evidence(p: stats.Paired | None) -> list[str]:
        if p is None:
            return ["-", "-"]
        why = f" (seeds disagree: {p.seeds_text()})" if p.seeds_disagree else ""
        return [f"+{p.won} / -{p.lost}", stats.format_p(p.p) + why]

    rows = [
        [
            v.model,
            pct(v.baseline),
            pct(v.now),
            "-" if v.delta is None else f"{100 * v.delta:+.2f} pp",
            f"±{100 * v.tolerance:.2f} pp",
            *evidence(v.paired),
            v.verdict.upper() if v.fails else v.verdict,
            v.note.replace("|", "\\|"),
        ]
        for v in verdicts
    ]
    return tabulate(
        rows,
        headers=[
            "model",
            "baseline",
            "now",
            "delta",
            "tolerance",
            "images won / lost",
            "paired p",
            "verdict",
            "note",
        ],
        tablefmt="github",
        disable_numparse=True,
    )


def legend(baseline: dict, verdicts: list[Verdict]) -> str:
    """What the tolerance column is: the rule with its false-failure rate, and how many
    checked seeds (m) each model's ``now`` is the mean of."""
    ms = sorted({v.seeds for v in verdicts if v.seeds})
    said = "" if not ms else f"; here m = {', '.join(map(str, ms))}"
    return (
        f"tolerance: {tol.rule_text(baseline.get('alpha', DEFAULT_ALPHA), baseline.get('floor', DEFAULT_FLOOR))}"
        f"{said}. Paired evidence only against the baseline's own records on the same test set."
    )
