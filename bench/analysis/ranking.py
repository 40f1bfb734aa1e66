"""Models ranked across conditions: Friedman's test over the ranks and Nemenyi's post-hoc
(Demšar 2006, "Statistical comparisons of classifiers over multiple data sets").

Two kinds of conditions, each a block in which every model ranked has a score:

- ``datasets``: per (profile, device), the datasets the records cover; a model's score on a
  dataset is the mean test accuracy over seeds of its default-configuration row (``not
  Row.custom``). Tables of one dataset from different CPUs are pooled (accuracy hardly
  depends on the CPU): each model's row comes from the table holding its newest record. The
  ranking takes the largest set of three or more datasets on which two or more models all
  have a score, and its note names the models and datasets left out.
- ``corruptions``: per table, the MNIST-C corruptions; a model's score is its accuracy under
  the corruption (mean over seeds), over the rows measured on the table's usual corrupted set.

Higher accuracy ranks first; ties get the average of the ranks they span. ``rank`` is the
pure statistics on a score matrix, ``compute`` builds the matrices from records. Pure
numpy/scipy/pandas/scikit-posthocs; the section's text and diagram are ``ranking_plot``.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bench import records
from bench.analysis import robustness, rowstats

ALPHA = 0.05
POSTHOC_METHOD = "Nemenyi"
# accuracies are means of counts over a few thousand images: equal up to rounding is a tie
TIE_DECIMALS = 9
WORDS = {0: "no", 1: "one", 2: "two"}


@dataclass
class Ranking:
    """One ranking: ``scores[i, j]`` is model ``j``'s accuracy (percent) in condition ``i``."""

    kind: str  # "datasets" | "corruptions"
    title: str
    conditions: list[str]
    models: list[str]
    scores: np.ndarray
    average_ranks: dict[str, float]
    friedman_stat: float
    friedman_p: float
    posthoc: object  # pandas DataFrame of Nemenyi p-values, models x models
    posthoc_method: str
    critical_difference: float | None
    note: str = ""
    slug: str = ""  # the file name stem of its diagram

    @property
    def ranks(self) -> np.ndarray:
        """The rank of each model in each condition (conditions x models; 1 = best)."""
        return condition_ranks(self.scores)

    def significant_pairs(self, alpha: float = ALPHA) -> list[tuple[str, str, float]]:
        """(better, worse, adjusted p) for every pair whose post-hoc p is below ``alpha``,
        the better one first (lower average rank), ordered by p then names."""
        out = []
        for a, b in itertools.combinations(self.models, 2):
            p = float(self.posthoc.loc[a, b])
            if p < alpha:
                better, worse = sorted((a, b), key=lambda m: (self.average_ranks[m], m))
                out.append((better, worse, p))
        return sorted(out, key=lambda t: (t[2], t[0], t[1]))


def condition_ranks(scores) -> np.ndarray:
    """Ranks within each row of ``scores`` (conditions x models): the highest score 1, ties
    the average of the ranks they span (``scipy.stats.rankdata``)."""
    from scipy.stats import rankdata

    s = np.round(np.asarray(scores, dtype=float), TIE_DECIMALS)
    return rankdata(-s, axis=1, method="average")


def friedman(ranks) -> tuple[float, float]:
    """Friedman's chi-square with the correction for ties and its p-value (chi-square, k-1
    degrees of freedom) from a conditions x models matrix of within-condition ranks. The same
    value as ``scipy.stats.friedmanchisquare``, also for two models (which scipy refuses);
    every model tied in every condition leaves nothing to test: (0.0, 1.0)."""
    from scipy.stats import chi2

    r = np.asarray(ranks, dtype=float)
    n, k = r.shape
    ties = sum(
        float((t**3 - t).sum()) for row in r for t in [np.unique(row, return_counts=True)[1]]
    )
    correction = 1.0 - ties / (n * k * (k * k - 1))
    if correction <= 1e-12:
        return 0.0, 1.0
    rbar = r.mean(axis=0)
    stat = 12.0 * n / (k * (k + 1)) * float(((rbar - (k + 1) / 2) ** 2).sum()) / correction
    return stat, float(chi2.sf(stat, k - 1))


def nemenyi_q(k: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical value q_alpha for ``k`` models: the studentized range's upper
    quantile (infinite degrees of freedom) over sqrt(2) (Demšar's table: k=4 gives 2.569)."""
    from scipy.stats import studentized_range

    return float(studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi's critical difference of average ranks: q_alpha * sqrt(k (k+1) / (6 n))."""
    return nemenyi_q(k, alpha) * float(np.sqrt(k * (k + 1) / (6.0 * n)))


def nemenyi(scores, models: list[str]):
    """Nemenyi's adjusted p-values for every pair (``scikit_posthocs.posthoc_nemenyi_friedman``
    on the scores rounded as for the ranks), a models x models DataFrame."""
    import pandas as pd
    import scikit_posthocs as sp

    s = np.round(np.asarray(scores, dtype=float), TIE_DECIMALS)
    return sp.posthoc_nemenyi_friedman(pd.DataFrame(s, columns=list(models)))


def rank(
    kind: str,
    title: str,
    conditions: list[str],
    models: list[str],
    scores,
    note: str = "",
    slug: str = "",
) -> Ranking | str:
    """The ranking of ``models`` over ``conditions`` from ``scores`` (conditions x models,
    higher better), or a sentence saying why there is none. A model without a score (NaN)
    in some condition is left out, and the note says so; three or more conditions and two
    or more models are needed."""
    s = np.asarray(scores, dtype=float).reshape(len(conditions), len(models))
    complete = ~np.isnan(s).any(axis=0)
    dropped = [m for m, ok in zip(models, complete) if not ok]
    if dropped:
        note = _join(note, f"left out for a missing score: {', '.join(dropped)}")
    s, models = s[:, complete], [m for m, ok in zip(models, complete) if ok]
    if len(conditions) < 3:
        which = f" ({', '.join(conditions)})" if conditions else ""
        return f"the records cover {_count(len(conditions), kind)}{which}; it needs three or more"
    if len(models) < 2:
        return f"{WORDS.get(len(models), len(models))} model has a score in every condition; it needs two or more"
    ranks = condition_ranks(s)
    stat, p = friedman(ranks)
    average = {m: float(v) for m, v in zip(models, ranks.mean(axis=0))}
    return Ranking(
        kind,
        title,
        list(conditions),
        list(models),
        s,
        average,
        stat,
        p,
        nemenyi(s, models),
        POSTHOC_METHOD,
        critical_difference(len(models), len(conditions)),
        note,
        slug,
    )


def _count(n: int, kind: str) -> str:
    noun = kind[:-1] if n == 1 else kind
    return f"{WORDS.get(n, n)} {noun}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def compute(df) -> tuple[list[Ranking], list[str]]:
    """Every ranking the records ``df`` allow (across datasets per profile and device, then
    across corruptions per table) and one note per ranking that could not be made, saying
    why. No records: nothing and no notes."""
    gs = rowstats.groups(df)
    if not gs:
        return [], []
    rows = {id(g): rowstats.row_stats(g) for g in gs}
    rankings, notes = _dataset_rankings(gs, rows)
    more, why = _corruption_rankings(gs, rows)
    return rankings + more, notes + why


def default_rows(rows: list[rowstats.Row]) -> dict[str, rowstats.Row]:
    """Each model's default-configuration row (``not custom``, with an accuracy): the one
    labelled with the bare model name (and its dataset recipe's tag) if there is one, i.e.
    without thread, target, protocol or job-slot differences; else the one with the most
    seeds, then by label."""
    out: dict[str, rowstats.Row] = {}
    for r in sorted(
        (r for r in rows if not r.custom and r.values["accuracy"] is not None),
        key=lambda r: (re.sub(r" \[[^\]]* recipe\]", "", r.label) != r.model, -r.n, r.label),
    ):
        out.setdefault(r.model, r)
    return out


def _newest(group: rowstats.Group, r: rowstats.Row) -> str:
    ok = group.ok
    when = ok.loc[ok["row.key"] == r.key, "started_at"].dropna()
    return str(when.max()) if len(when) else ""  # no start time: never newer than one that has it


def _dataset_scores(gs: list[rowstats.Group], rows: dict) -> dict[tuple, dict]:
    """(profile, device) -> {"scores": {dataset: {model: accuracy}}, "cpus": {dataset: set},
    "custom": number of non-default rows}; across CPUs each model's newest row wins."""
    clusters: dict[tuple, dict] = {}
    for g in gs:
        c = clusters.setdefault(
            (g.profile, g.device), {"scores": {}, "newest": {}, "cpus": {}, "custom": 0}
        )
        c["custom"] += sum(r.custom for r in rows[id(g)])
        c["cpus"].setdefault(g.dataset, set()).add(g.cpu)
        for model, r in default_rows(rows[id(g)]).items():
            when = _newest(g, r)
            if when >= c["newest"].get((g.dataset, model), ""):
                c["newest"][(g.dataset, model)] = when
                c["scores"].setdefault(g.dataset, {})[model] = r.values["accuracy"]
    return clusters


def largest_complete(
    scores: dict[str, dict[str, float]], min_conditions: int = 3, min_models: int = 2
) -> tuple[list[str], list[str]] | None:
    """The largest set of conditions (then the most models, then the first in sorted order)
    of at least ``min_conditions`` on which at least ``min_models`` models all have a score:
    (conditions, models), both sorted; None when there is no such set."""
    names = sorted(scores)
    for size in range(len(names), min_conditions - 1, -1):
        best = None
        for conds in itertools.combinations(names, size):
            models = sorted(set.intersection(*(set(scores[c]) for c in conds)))
            if len(models) >= min_models and (best is None or len(models) > len(best[1])):
                best = (list(conds), models)
        if best is not None:
            return best
    return None


def _dataset_rankings(gs: list[rowstats.Group], rows: dict) -> tuple[list[Ranking], list[str]]:
    out, notes = [], []
    for (profile, device), c in sorted(_dataset_scores(gs, rows).items()):
        where = f"{profile} profile, {device}"
        scores = c["scores"]
        if not scores:  # tables without ok rows: nothing to rank or to explain here
            continue
        chosen = largest_complete(scores) if len(scores) >= 3 else None
        if chosen is None:
            why = (
                rank("datasets", "", sorted(scores), [], np.zeros((len(scores), 0)))
                if len(scores) < 3
                else "no two models have a default-configuration row on three of its datasets"
            )
            notes.append(f"ranking across datasets ({where}) omitted: {why}")
            continue
        conds, models = chosen
        result = rank(
            "datasets",
            f"Across datasets · {where}",
            conds,
            models,
            [[scores[d][m] for m in models] for d in conds],
            _dataset_note(c, conds, models),
            records.slug(f"ranking-datasets-{profile}-{device}"),
        )
        if isinstance(result, str):
            notes.append(f"ranking across datasets ({where}) omitted: {result}")
        else:
            out.append(result)
    return out, notes


def _dataset_note(c: dict, conds: list[str], models: list[str]) -> str:
    """What a dataset ranking leaves out and pools: models, datasets, CPUs, custom rows."""
    scores = c["scores"]
    others = sorted({m for d in scores for m in scores[d]} - set(models))
    left = [
        f"{m} (on {', '.join(d for d in sorted(scores) if m in scores[d])} only)" for m in others
    ]
    parts = [
        f"left out (not on every dataset ranked): {', '.join(left)}" if left else "",
        f"datasets left out (ranking them too would leave fewer than two models): "
        f"{', '.join(sorted(set(scores) - set(conds)))}"
        if set(scores) - set(conds)
        else "",
    ]
    cpus = {cpu for d in conds for cpu in c["cpus"][d]}
    if len(cpus) > 1:
        parts.append(
            f"tables from {len(cpus)} CPUs pooled: each model's row from the table holding its newest "
            "record (accuracy hardly depends on the CPU)"
        )
    if c["custom"]:
        parts.append(f"{c['custom']} row(s) with non-default hyper-parameters not ranked")
    return _join(*parts)


def _corruption_rankings(gs: list[rowstats.Group], rows: dict) -> tuple[list[Ranking], list[str]]:
    out, notes = [], []
    for g in gs:
        measured = [r for r in default_rows(rows[id(g)]).values() if r.robustness is not None]
        if not measured:
            continue
        usual = Counter(
            (r.robustness.digest, r.robustness.n_per_corruption) for r in measured
        ).most_common(1)[0][0]
        kept = sorted(
            (r for r in measured if (r.robustness.digest, r.robustness.n_per_corruption) == usual),
            key=lambda r: r.model,
        )
        other = sorted(r.model for r in measured if r not in kept)
        note = f"measured on another corrupted set, left out: {', '.join(other)}" if other else ""
        names = robustness.ordered({n for r in kept for n in r.robustness.per_corruption})
        scores = [[r.robustness.per_corruption.get(n, np.nan) for r in kept] for n in names]
        result = rank(
            "corruptions",
            f"Across the MNIST-C corruptions · {g.title}",
            names,
            [r.model for r in kept],
            scores if names else np.zeros((0, len(kept))),
            note,
            f"{g.slug}-corruption-ranking",
        )
        if isinstance(result, str):
            notes.append(f"ranking across corruptions ({g.title}) omitted: {result}")
        else:
            out.append(result)
    if not any(r.robustness is not None for g in gs for r in rows[id(g)]):
        notes.append(
            "ranking across corruptions omitted: no table's records hold the MNIST-C robustness "
            "measurements"
        )
    return out, notes
