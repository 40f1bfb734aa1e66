"""``python -m bench compare A B``: did a change make any model better or worse?

In the spirit of ``asv compare``: A and B are records folders (before and after a change).
Per configuration present in both (THE identity, ``bench.records.identity``, less the fields
that change speed but not accuracy: two grid points of a model are two configurations), the
newest record of each seed is taken on each side; seeds are paired with seeds, and every pair is compared image by image
on the shared test set (McNemar mid-p, ``bench.report.stats.paired``, an intersection-union test:
better or worse only when every seed pair is significant in that same direction; seeds that
point opposite ways are no change, and the note says they disagree). p-values are
Holm-corrected over the models compared. Verdicts: better, worse, no significant change, or
"not comparable" (no per-example outcomes, different test sets, no common seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import measure
from bench.records import identity
from bench.report import stats
from bench.report.rows import params_text

# compare pairs configurations by THE identity, less what changes speed but not accuracy
# (threads, inference protocol, hardware, GPU, job slots): A and B may come from different machines
SCOPE = identity.SPEED_ONLY


def newest_per_seed(recs: list[dict]) -> dict[tuple, dict[int, dict]]:
    """Configuration (identity key less ``SCOPE``) -> seed -> newest ``ok`` record."""
    return identity.newest_per_seed(recs, SCOPE)


def describe(rec: dict) -> tuple[str, str]:
    """(label, where) of a record's configuration for people: the model with the
    hyper-parameters and target that differ from its defaults, and dataset/profile/device."""
    j = rec["job"]
    parts = params_text(j["model"], j["params"], j["profile"])
    if j.get("target") is not None:
        parts.append(f"target={j['target']:g}")
    if j.get("deterministic"):
        parts.append("deterministic")
    return " ".join([j["model"], *parts]), f"{j['dataset']}/{j['profile']}/{j['device']}"


def _ident(by_seed: dict[int, dict]) -> identity.Identity:
    """The identity of a configuration's records (any seed's: they share it)."""
    return identity.of_record(next(iter(by_seed.values())))


# what a change of recipe may change while compare still pairs the two sides
RECIPE = ("params_hash", "data_digest", "deterministic", "target", *SCOPE)


def changed_recipes(b: dict[tuple, dict], a: dict[tuple, dict]) -> list[tuple[tuple, tuple]]:
    """Pairs (key in ``b``, key in ``a``) of configurations that match nowhere else but are
    the ONLY unmatched configuration of their model on their dataset/profile/device on each
    side: a change of recipe (``--set``, new defaults, other data) that ``compare`` still
    pairs, saying what changed. Grid points match exactly and are never paired this way."""
    def loose(side):  # the unmatched configurations of each model, dataset, profile and device
        out: dict[tuple, list[tuple]] = {}
        for key in set(side) - (set(b) & set(a)):
            out.setdefault(_ident(side[key]).key(RECIPE), []).append(key)
        return out
    lb, la = loose(b), loose(a)
    return [(lb[k][0], la[k][0]) for k in sorted(set(lb) & set(la)) if len(lb[k]) == len(la[k]) == 1]


def unmatched(side: dict[tuple, dict[int, dict]], other: dict[tuple, dict[int, dict]]) -> list[str]:
    """A line per configuration of ``side`` missing from ``other``, naming the identity
    fields in which ``other``'s nearest configuration of the same model differs."""
    lines = []
    for key in sorted(set(side) - set(other), key=str):
        label, where = describe(next(iter(side[key].values())))
        mine = _ident(side[key])
        near = [identity.differences(mine, theirs) for theirs in map(_ident, other.values())
                if theirs.model == mine.model]
        diff = [f for f in min(near, key=len) if f not in SCOPE] if near else []
        lines.append(f"{label} ({where})" + (f": the other side's differs in {', '.join(diff)}" if diff else ""))
    return lines


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
    paired: stats.Paired | None = None  # the per-seed evidence behind won / lost / p
    label: str = ""  # the model and its non-default settings (``describe``)
    where: str = ""  # dataset/profile/device

    @property
    def model(self) -> str:
        return self.label.split(" ")[0]


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
    change.label, change.where = describe(next(iter(after.values())))
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
            change.paired = t
            if t.seeds_disagree:
                change.note = f"seeds disagree: {t.seeds_text()}"
    return change


def compare(before: list[dict], after: list[dict]) -> tuple[list[Change], list[str], list[str]]:
    """Changes for the configurations both sides have (Holm over the testable ones), and
    descriptions of the configurations only before / only after. A model whose one
    configuration changed between A and B is still compared (``changed_recipes``), with the
    changed identity fields in its note."""
    b, a = newest_per_seed(before), newest_per_seed(after)
    changes = [paired_change(k, b[k], a[k]) for k in set(b) & set(a)]
    for kb, ka in changed_recipes(b, a):
        change = paired_change(ka, b[kb], a[ka])
        before_label = describe(next(iter(b[kb].values())))[0]
        diff = ", ".join(f for f in identity.differences(_ident(b[kb]), _ident(a[ka])) if f not in SCOPE)
        change.label = f"{before_label} → {change.label}" if before_label != change.label else change.label
        change.note = "; ".join(x for x in (f"configuration changed: {diff}", change.note) if x)
        changes.append(change)
        del b[kb], a[ka]
    changes.sort(key=lambda c: (c.where, c.label, str(c.key)))
    tested = [c for c in changes if c.p is not None]
    for c, adjusted in zip(tested, stats.holm([c.p for c in tested])):
        c.p_holm = adjusted
        c.verdict = {1: "better", -1: "worse"}.get(c.paired.decided(adjusted), "no significant change")
    return changes, unmatched(b, a), unmatched(a, b)


def table(changes: list[Change]) -> str:
    """GitHub-Markdown table of the changes."""
    from tabulate import tabulate

    rows = []
    for c in changes:
        rows.append([c.label, c.where, f"{100 * c.before:.2f}", f"{100 * c.after:.2f}",
                     f"{100 * (c.after - c.before):+.2f}",
                     "-" if c.won is None else f"+{c.won} / -{c.lost}",
                     "-" if c.p_holm is None else stats.format_p(c.p_holm),
                     ",".join(map(str, c.seeds)) or "-",
                     (c.verdict.upper() if c.verdict == "worse" else c.verdict) + (f" ({c.note})" if c.note else "")])
    return tabulate(rows, headers=["model", "data", "before %", "after %", "change pp", "images won / lost",
                                   "p (Holm)", "seeds", "verdict"], tablefmt="github", disable_numparse=True)
