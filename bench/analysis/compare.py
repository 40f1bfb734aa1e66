"""``python -m bench compare A B``: did a change make any model better or worse?

In the spirit of ``asv compare``: A and B are records folders (before and after a change).
Per configuration present in both (THE identity, ``bench.records.identity``, less the fields
that change speed but not accuracy: two grid points of a model are two configurations), the
newest record of each seed is taken on each side; seeds are paired with seeds, and every pair is compared image by image
on the shared test set (``bench.analysis.stats.paired``: on MNIST's test set the per-writer
sign-flip test, the writer the unit; elsewhere McNemar's mid-p; an intersection-union test:
better or worse only when every seed pair is significant in that same direction; seeds that
point opposite ways are no change, and the note says they disagree). The before/after means
and the change are over the matched seeds only (the ones tested); the note names the seeds
one side has and the other lacks. p-values are Holm-corrected over the models compared
(``decide``: the clean and corrupted tables of one ``compare`` are one family). Verdicts: better, worse, no significant change, or
"not comparable" (no per-example outcomes, different test sets, no common seed).
``what="corrupted"`` does the same for the mean accuracy over the MNIST-C corruptions, with
the base image as the unit (``stats.paired_clustered``). ``speed_pairs`` hands the same pairs
of configurations to ``bench.analysis.speed`` for the speed verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import measure
from bench.analysis import speed, stats
from bench.analysis.labels import params_text
from bench.data import writers
from bench.records import identity

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
    parts = params_text(j["model"], j["params"], j["profile"], j.get("recipe"), j.get("defaults"))
    if j.get("target") is not None:
        parts.append(f"target={j['target']:g}")
    if j.get("deterministic"):
        parts.append("deterministic")
    if (j.get("precision") or "fp32") != "fp32":
        parts.append(f"precision={j['precision']}")
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
    return [
        (lb[k][0], la[k][0]) for k in sorted(set(lb) & set(la)) if len(lb[k]) == len(la[k]) == 1
    ]


def unmatched(side: dict[tuple, dict[int, dict]], other: dict[tuple, dict[int, dict]]) -> list[str]:
    """A line per configuration of ``side`` missing from ``other``, naming the identity
    fields in which ``other``'s nearest configuration of the same model differs."""
    lines = []
    for key in sorted(set(side) - set(other), key=str):
        label, where = describe(next(iter(side[key].values())))
        mine = _ident(side[key])
        near = [
            identity.differences(mine, theirs)
            for theirs in map(_ident, other.values())
            if theirs.model == mine.model
        ]
        diff = [f for f in min(near, key=len) if f not in SCOPE] if near else []
        lines.append(
            f"{label} ({where})"
            + (f": the other side's differs in {', '.join(diff)}" if diff else "")
        )
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


MEASURES = (
    "accuracy",
    "corrupted",
)  # clean test accuracy; mean accuracy over the MNIST-C corruptions


def _masks(by_seed: dict[int, dict]) -> tuple[dict[int, np.ndarray], set]:
    masks, digests = {}, set()
    for seed, r in by_seed.items():
        o = r.get("outcomes")
        if isinstance(o, dict):
            masks[seed] = measure.correct_mask(o)
            digests.add(o["test_digest"])
    return masks, digests


def _corrupted_masks(by_seed: dict[int, dict]) -> tuple[dict[int, np.ndarray], set]:
    """seed -> bool (corruptions, base images), and the corrupted sets' digests."""
    masks, digests = {}, set()
    for seed, r in by_seed.items():
        rob = r.get("robustness")
        if isinstance(rob, dict) and rob.get("corruptions"):
            names = sorted(rob["corruptions"])
            masks[seed] = np.vstack(
                [measure.correct_mask(rob["corruptions"][n]["outcomes"]) for n in names]
            )
            digests.add((rob["digest"], tuple(names)))
    return masks, digests


def _value(rec: dict, what: str) -> float:
    if what == "accuracy":
        return float(rec["metrics"]["accuracy"])
    rob = rec.get("robustness")
    return (
        float(rob["mean_accuracy"])
        if isinstance(rob, dict) and "mean_accuracy" in rob
        else float("nan")
    )


def left_out(before: dict[int, dict], after: dict[int, dict]) -> str:
    """The seeds one side has and the other lacks, in words (e.g. ``seeds 1, 2 of before not
    in after``); empty when both sides hold the same seeds."""
    parts = []
    for name, mine, other in (("before", before, after), ("after", after, before)):
        extra = sorted(set(mine) - set(other))
        if extra:
            parts.append(
                f"seed{'s' * (len(extra) > 1)} {', '.join(map(str, extra))} of {name} not in "
                f"{'after' if name == 'before' else 'before'}"
            )
    return "; ".join(parts)


def _writers(digests: set, masks: dict[int, np.ndarray]) -> np.ndarray | None:
    """Each test image's writer when the one test set's writers are known
    (``writers.test_groups``: MNIST's, or a user file's groups): the writer is then the unit
    of the paired test; None (images the unit) otherwise."""
    return writers.test_groups(next(iter(digests)), len(next(iter(masks.values()))))


def paired_change(
    key: tuple, before: dict[int, dict], after: dict[int, dict], what: str = "accuracy"
) -> Change:
    """The change in ``what`` (``MEASURES``) and its paired evidence (uncorrected ``p``) for
    one model: McNemar per seed on the clean test images, or the sign-flip test of the mean
    gain per base image of the corrupted sets (``stats.paired_clustered``). The means before
    and after are over the seeds both sides hold (the ones the test pairs; every seed when
    none is shared), and the note names the seeds left out."""
    common = set(before) & set(after)

    def mean(rs):
        return float(np.mean([_value(r, what) for s, r in rs.items() if s in common or not common]))

    change = Change(key, mean(before), mean(after))
    change.label, change.where = describe(next(iter(after.values())))
    change.note = left_out(before, after)
    masks = _masks if what == "accuracy" else _corrupted_masks
    mb, db = masks(before)
    ma, da = masks(after)
    why = ""
    if len(mb) < len(before) or len(ma) < len(after):
        why = (
            "records without per-example outcomes (re-run them)"
            if what == "accuracy"
            else "records without robustness (run with --robustness on)"
        )
    elif db != da or len(db) != 1:
        why = "different test sets" if what == "accuracy" else "different corrupted test sets"
    elif not common:
        why = "no seed in common"
    else:
        t = (
            stats.paired(mb, ma, _writers(db, mb))
            if what == "accuracy"
            else stats.paired_clustered(mb, ma)
        )
        change.seeds, change.won, change.lost, change.p = t.seeds, t.won, t.lost, t.p
        change.paired = t
        if t.seeds_disagree:
            why = f"seeds disagree: {t.seeds_text()}"
    change.note = "; ".join(x for x in (why, change.note) if x)
    return change


def _changed_label(before: dict[int, dict], after: dict[int, dict]) -> tuple[str, str]:
    """The label of a configuration whose recipe changed (``before → after`` where the labels
    differ) and the identity fields that changed, comma-separated."""
    before_label, after_label = (
        describe(next(iter(before.values())))[0],
        describe(next(iter(after.values())))[0],
    )
    diff = ", ".join(
        f for f in identity.differences(_ident(before), _ident(after)) if f not in SCOPE
    )
    return (f"{before_label} → {after_label}" if before_label != after_label else after_label), diff


def speed_pairs(before: list[dict], after: list[dict]) -> list[speed.Pair]:
    """The configurations ``compare`` pairs (the same ones, ``changed_recipes`` included), each
    with its newest ``ok`` record per seed on each side, for ``speed.compare_speed``."""
    b, a = newest_per_seed(before), newest_per_seed(after)
    pairs = []
    for k in set(b) & set(a):
        label, where = describe(next(iter(a[k].values())))
        pairs.append(speed.Pair(label, where, b[k], a[k]))
    for kb, ka in changed_recipes(b, a):
        label, diff = _changed_label(b[kb], a[ka])
        pairs.append(
            speed.Pair(
                f"{label} (changed: {diff})", describe(next(iter(a[ka].values())))[1], b[kb], a[ka]
            )
        )
    return sorted(pairs, key=lambda p: (p.where, p.label))


def compare(
    before: list[dict], after: list[dict], what: str = "accuracy"
) -> tuple[list[Change], list[str], list[str]]:
    """Changes in ``what`` (``MEASURES``) for the configurations both sides have (Holm over
    the testable ones), and descriptions of the configurations only before / only after. A
    model whose one configuration changed between A and B is still compared
    (``changed_recipes``), with the changed identity fields in its note."""
    b, a = newest_per_seed(before), newest_per_seed(after)
    changes = [paired_change(k, b[k], a[k], what) for k in set(b) & set(a)]
    for kb, ka in changed_recipes(b, a):
        change = paired_change(ka, b[kb], a[ka], what)
        change.label, diff = _changed_label(b[kb], a[ka])
        change.note = "; ".join(x for x in (f"configuration changed: {diff}", change.note) if x)
        changes.append(change)
        del b[kb], a[ka]
    changes.sort(key=lambda c: (c.where, c.label, str(c.key)))
    decide(changes)
    return changes, unmatched(b, a), unmatched(a, b)


def decide(*tables: list[Change]) -> int:
    """Holm over every tested change (``p`` not None) of ``tables`` together, as ONE family
    (``compare``'s clean and corrupted tables: ``--fail-on-worse`` fails on their union), and
    each tested change's ``p_holm`` and verdict from it; how many were tested."""
    tested = [c for t in tables for c in t if c.p is not None]
    for c, adjusted in zip(tested, stats.holm([c.p for c in tested])):
        c.p_holm = adjusted
        c.verdict = {1: "better", -1: "worse"}.get(
            c.paired.decided(adjusted), "no significant change"
        )
    return len(tested)
