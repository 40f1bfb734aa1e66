"""Conformance checker for adapter authors, like scikit-learn's ``check_estimator``.

``check_adapter(name_or_class)`` trains the adapter on a small slice of the digits set (the
shared preprocessing, the adapter's own view, its ``quick`` hyper-parameters unchanged: only
the number of images is small) and returns one ``Finding`` per rule, in this order:

    contract       ``contract.check_class``: abstract methods implemented, attributes declared
    clock          ``fit`` returns a ``TrainingLog`` with at least one pass, each pass with a
                   finite ``train_s >= 0`` and its evaluation apart (``eval_s`` present);
                   ``setup_s``/``teardown_s`` finite and >= 0; the seconds it reports fit in
                   the wall time of the call
    probabilities  ``predict_proba`` on the test slice: shape (N, 10), finite, non-negative,
                   rows summing to 1 (within 1e-4)
    determinism    a second fit, prepared with ``deterministic=True`` like the first: with the
                   same seed where ``uses_seed(params)``, with another seed where not; the same
                   class (argmax) for every test image
    save/load      ``save`` then ``load`` predict the same classes, and the same
                   probabilities within 1e-6 (only when ``can_save()``)
    check_params   the ``full`` and ``quick`` defaults pass; for each numeric default a bad
                   value (a negative number, NaN, a wrong type) is tried, and at least one
                   must raise ``ValueError``; an exception other than ``ValueError`` for a value
                   of the right type is a failure too (the planner catches ``ValueError`` only)
    test set       neither ``prepare`` nor ``fit`` reads the test set

A step that raises fails its rule with the exception in one line; rules that need its result
are then skipped (``Finding.skipped``), the others still run.

An already-trained model (``trains`` False) is loaded from its file as the runner loads it
(``cls.load(cls.origin["path"], ...)``) and never fitted: clock, determinism and test set
are skipped.

How the test set is guarded is ``bench.adapters.test_set_guard``'s docstring: in short, an
audit hook on dataset files and wrapped dataset loaders, over ``prepare`` and ``fit``, both run
before the test slice is loaded. The verdicts are ``bench.adapters.conformance_rules``.

Side effects: ``deterministic=True`` turns on TensorFlow's op determinism for the rest of the
process (TensorFlow offers no switch back); the test-set guard's audit hook stays installed
(Python offers no removal), doing nothing between checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from bench.adapters.conformance_rules import (
    Finding,
    check_params_rule,
    clock_rule,
    determinism_rule,
    fail,
    ok,
    one_line,
    predict_rule,
    save_load_rule,
    skip,
    test_set_rule,
)
from bench.adapters.contract import VIEWS, Adapter, check_class
from bench.adapters.test_set_guard import TestSetWatch
from bench.adapters.training_log import quiet

__all__ = ["DATASET", "RULES", "Finding", "check_adapter", "test_slice", "training_slice"]

RULES = (
    "contract",
    "clock",
    "probabilities",
    "determinism",
    "save/load",
    "check_params",
    "test set",
)
TRAINED = (
    "clock",
    "probabilities",
    "determinism",
    "save/load",
    "test set",
)  # the rules that need a fit
DATASET = "digits"


# ---------------------------------------------------------------- the check


def check_adapter(
    name_or_class,
    *,
    n_train: int = 300,
    n_val: int = 100,
    n_test: int = 300,
    seed: int = 0,
    threads: int | None = None,
) -> list[Finding]:
    """Run every rule (``RULES``) on the adapter ``name_or_class`` (a registered name, resolved
    with ``registry.get``, or an ``Adapter`` subclass, registered or not) and return one
    ``Finding`` per rule, in ``RULES`` order. ``n_train``/``n_val``/``n_test`` images of the
    digits set (at most 1,317 / 120 / 360); ``seed`` for both fits; ``threads`` for
    ``prepare`` (None: the framework's default, the only setting a process that has already
    started TensorFlow can still give it). ``BenchError`` for an unknown name; everything the adapter raises is a
    finding."""
    if isinstance(name_or_class, str):
        from bench.adapters import registry

        cls = registry.get(name_or_class)
    else:
        cls = name_or_class
    problems = check_class(cls)
    findings = {
        "contract": fail("contract", "; ".join(problems))
        if problems
        else ok("contract", "abstract methods implemented, attributes declared")
    }
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        return [findings["contract"]] + [
            skip(r, "not checked: not an Adapter subclass") for r in RULES[1:]
        ]
    try:
        params = cls.defaults_for("quick", DATASET)[0]
    except Exception as exc:  # noqa: BLE001 - a broken declaration is a finding
        return [findings["contract"]] + [
            fail(r, f"no quick parameters: {one_line(exc)}") for r in RULES[1:]
        ]
    try:
        findings["check_params"] = check_params_rule(cls)
    except Exception as exc:  # noqa: BLE001 - e.g. defaults lacking a profile: already a contract finding
        findings["check_params"] = fail("check_params", f"not checked: {one_line(exc)}")
    if cls.view not in VIEWS:
        findings.update(
            {r: skip(r, f"not checked: unknown view {cls.view!r} (see contract)") for r in TRAINED}
        )
    else:
        findings.update(_trained_rules(cls, params, n_train, n_val, n_test, seed, threads))
    return [findings[r] for r in RULES]


def _trained_rules(cls, params, n_train, n_val, n_test, seed, threads) -> dict[str, Finding]:
    """clock, probabilities, determinism, save/load and test set: two fits (the test slice
    loaded only after both), then predictions and the save/load round trip. An already-trained
    model (``trains`` False) is loaded as the runner loads it, never fitted."""
    if not cls.trains:
        return _inference_only_rules(cls, params, n_test, threads)
    x, y, x_val, y_val = training_slice(cls.view, n_train, n_val)
    first = _Fit.run(cls, params, (x, y, x_val, y_val), seed, threads)
    if first.error is not None:
        return {
            "clock": fail("clock", first.error),
            "test set": test_set_rule(first.accesses),
            **{
                r: skip(r, "not checked: the first fit failed (see clock)")
                for r in ("probabilities", "determinism", "save/load")
            },
        }
    second_seed, uses, why_not = _second_seed(cls, params, seed)
    second = None if why_not else _Fit.run(cls, params, (x, y, x_val, y_val), second_seed, threads)
    del x, y, x_val, y_val
    x_test = test_slice(cls.view, n_test)
    probabilities, proba = predict_rule(first.adapter, x_test)
    out = {
        "clock": clock_rule(first.result, first.wall_s),
        "probabilities": probabilities,
        "test set": test_set_rule(first.accesses + (second.accesses if second else ())),
    }
    if why_not:
        out["determinism"] = fail("determinism", why_not)
    else:
        out["determinism"] = determinism_rule(proba, second, x_test, seed, second_seed, uses)
    out["save/load"] = save_load_rule(cls, first.adapter, params, proba, x_test, threads)
    return out


def _inference_only_rules(cls, params, n_test, threads) -> dict[str, Finding]:
    why = "not checked: an already-trained model (trains is False): the harness never calls fit"
    out = {r: skip(r, why) for r in ("clock", "determinism", "test set")}
    try:
        adapter = cls.load((cls.origin or {}).get("path"), dict(params), threads)
    except Exception as exc:  # noqa: BLE001
        return {
            **out,
            "probabilities": fail("probabilities", f"load raised {one_line(exc)}"),
            "save/load": skip(
                "save/load", "not checked: the model could not be loaded (see probabilities)"
            ),
        }
    x_test = test_slice(cls.view, n_test)
    out["probabilities"], proba = predict_rule(adapter, x_test)
    out["save/load"] = save_load_rule(cls, adapter, params, proba, x_test, threads)
    return out


# ---------------------------------------------------------------- data


def training_slice(view: str, n_train: int, n_val: int):
    """(x, y, x_val, y_val): stratified subsets of the digits training split (validation
    carved from it as the profiles do, split seed 0), in ``view``. No test image is kept."""
    from bench.data import load
    from bench.prep.preprocess import VIEWS, SplitRule, prepare

    s = load(DATASET).splits
    prep = prepare(
        s.x_train,
        s.y_train,
        s.x_test[:0],
        s.y_test[:0],
        SplitRule(val_fraction=1 / 12, max_train=n_train, max_val=n_val),
    )
    return VIEWS[view](prep.x_train), prep.y_train, VIEWS[view](prep.x_val), prep.y_val


def test_slice(view: str, n_test: int) -> np.ndarray:
    """A stratified subset of ``n_test`` digits test images (seed 0), in ``view``."""
    from bench.data import load
    from bench.prep.preprocess import VIEWS, stratified_subset

    s = load(DATASET).splits
    keep = np.sort(stratified_subset(s.y_test, min(n_test, len(s.y_test)), 0))
    return VIEWS[view](s.x_test[keep])


# ---------------------------------------------------------------- fitting


@dataclass
class _Fit:
    """One ``prepare`` + ``fit`` under the test-set watch."""

    adapter: object = None
    result: object = None
    wall_s: float = 0.0
    error: str | None = None
    accesses: tuple = ()
    seed: int = 0

    @classmethod
    def run(cls, adapter_cls, params, data, seed, threads) -> _Fit:
        x, y, x_val, y_val = (
            a.copy() for a in data
        )  # an adapter writing into its inputs spoils no other fit
        out, step = cls(seed=seed), "constructing the adapter"
        with TestSetWatch() as watch:
            try:
                out.adapter = adapter_cls(dict(params))
                step = "prepare"
                out.adapter.prepare(
                    n_train=len(x), seed=seed, device="cpu", threads=threads, deterministic=True
                )
                step = "fit"
                t0 = time.perf_counter()
                out.result = out.adapter.fit(x, y, x_val=x_val, y_val=y_val, log=quiet)
                out.wall_s = time.perf_counter() - t0
            except Exception as exc:  # noqa: BLE001 - the adapter's failure is the finding
                out.error = f"{step} raised {one_line(exc)}"
        out.accesses = tuple(watch.accesses)
        return out


def _second_seed(cls, params, seed) -> tuple[int, bool, str]:
    """(seed of the second fit, uses_seed, "") — the same seed where the model uses one,
    another where it says it does not; (seed, False, why) when ``uses_seed`` raised."""
    try:
        uses = bool(cls.uses_seed(dict(params)))
    except Exception as exc:  # noqa: BLE001
        return seed, False, f"uses_seed raised {one_line(exc)}"
    return (seed if uses else seed + 1), uses, ""
