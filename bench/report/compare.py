"""``python -m bench compare A B``: did a change make any model better or worse?

In the spirit of ``asv compare``: A and B are records folders (before and after a change).
Per (dataset, profile, device, model) present in both, the newest record of each seed is
taken on each side; seeds are paired with seeds, and every pair is compared image by image
on the shared test set (McNemar mid-p, ``bench.stats.paired``: a difference must hold for
every seed pair). p-values are Holm-corrected over the models compared. Verdicts: better,
worse, no significant change, or "not comparable" (no per-example outcomes, different test
sets, no common seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import measure
from bench.report import stats

KEY = ("dataset", "profile", "device", "model")


def newest_per_seed(recs: list[dict]) -> dict[tuple, dict[int, dict]]:
    """(dataset, profile, device, model) -> seed -> newest ``ok`` record."""
    out: dict[tuple, dict[int, dict]] = {}
    for r in recs:  # oldest first
        if r["status"] == "ok":
            j = r["job"]
            out.setdefault(tuple(j[k] for k in KEY), {})[int(j["seed"])] = r
    return out


@dataclass
class Change:
    key: tuple
    before: float
    after: float
    seeds: tuple = ()
    won: int | None = None
    lost: int | None = None
    p: float | None = None
    p_holm: float | None = None
    verdict: str = "not comparable"
    note: str = ""

    @property
    def model(self) -> str:
        return self.key[3]


def _masks(by_seed: dict[int, dict]) -> tuple[dict[int, np.ndarray], set]:
    masks, digests = {}, set()
    for seed, r in by_seed.items():
        o = r.get("outcomes")
        if isinstance(o, dict):
            masks[seed] = measure.correct_mask(o)
            digests.add(o["test_digest"])
    return masks, digests


def paired_change(key: tuple, before: dict[int, dict], after: dict[int, dict]) -> Change:
    """The accuracy change and its paired evidence (uncorrected ``p``) for one model."""
    acc = lambda rs: float(np.mean([r["metrics"]["accuracy"] for r in rs.values()]))  # noqa: E731
    change = Change(key, acc(before), acc(after))
    mb, db = _masks(before)
    ma, da = _masks(after)
    if len(mb) < len(before) or len(ma) < len(after):
        change.note = "records without per-example outcomes (re-run them)"
    elif db != da or len(db) != 1:
        change.note = "different test sets"
    else:
        t = stats.paired(mb, ma)
        if t is None:
            change.note = "no seed in common"
        else:
            change.seeds, change.won, change.lost, change.p = t.seeds, t.won, t.lost, t.p
    return change


def compare(before: list[dict], after: list[dict]) -> tuple[list[Change], list[tuple], list[tuple]]:
    """Changes for the keys both sides have (Holm over the testable ones), and the keys only
    before / only after."""
    b, a = newest_per_seed(before), newest_per_seed(after)
    changes = [paired_change(k, b[k], a[k]) for k in sorted(set(b) & set(a))]
    tested = [c for c in changes if c.p is not None]
    for c, adjusted in zip(tested, stats.holm([c.p for c in tested])):
        c.p_holm = adjusted
        if adjusted < stats.ALPHA and c.won != c.lost:
            c.verdict = "better" if c.won > c.lost else "worse"
        else:
            c.verdict = "no significant change"
    return changes, sorted(set(b) - set(a)), sorted(set(a) - set(b))


def table(changes: list[Change]) -> str:
    """GitHub-Markdown table of the changes."""
    from tabulate import tabulate

    rows = []
    for c in changes:
        where = "/".join(c.key[:3])
        rows.append([c.model, where, f"{100 * c.before:.2f}", f"{100 * c.after:.2f}",
                     f"{100 * (c.after - c.before):+.2f}",
                     "-" if c.won is None else f"+{c.won} / -{c.lost}",
                     "-" if c.p_holm is None else stats.format_p(c.p_holm),
                     ",".join(map(str, c.seeds)) or "-",
                     c.verdict.upper() if c.verdict == "worse" else c.verdict + (f" ({c.note})" if c.note else "")])
    return tabulate(rows, headers=["model", "data", "before %", "after %", "change pp", "images won / lost",
                                   "p (Holm)", "seeds", "verdict"], tablefmt="github", disable_numparse=True)
