"""The verdicts of the conformance checker (``bench.adapters.conformance``): one ``Finding``
per rule, from what the checker observed (a fit's ``TrainingLog`` and wall time, the
adapter's predictions, a save/load round trip, ``check_params`` on bad values, the dataset
reads the test-set guard saw). The rules and their thresholds are listed in
``bench.adapters.conformance``'s docstring; each function here says what it judges.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.adapters.training_log import TrainingLog

N_CLASSES = 10
ROW_SUM_TOLERANCE = 1e-4
RELOAD_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Finding:
    """One rule's verdict: ``ok`` (a skipped rule is ok, with ``skipped`` set) and one line."""

    rule: str
    ok: bool
    message: str
    skipped: bool = False

    def line(self) -> str:
        """``ok   rule: message`` / ``FAIL rule: message`` / ``skip rule: message``."""
        word = "skip" if self.skipped else ("ok" if self.ok else "FAIL")
        return f"{word:<4} {self.rule}: {self.message}"

    def as_dict(self) -> dict:
        return {"rule": self.rule, "ok": self.ok, "skipped": self.skipped, "message": self.message}


def ok(rule: str, message: str) -> Finding:
    return Finding(rule, True, message)


def fail(rule: str, message: str) -> Finding:
    return Finding(rule, False, message)


def skip(rule: str, message: str) -> Finding:
    return Finding(rule, True, message, skipped=True)


def one_line(exc: BaseException, limit: int = 240) -> str:
    """``Type: message`` on one line, cut to ``limit`` characters."""
    text = f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------- rules


def clock_rule(log, wall_s: float) -> Finding:
    """What ``fit`` returned (``log``), judged against the ``wall_s`` seconds the call took."""
    if not isinstance(log, TrainingLog):
        return fail(
            "clock",
            f"fit returned {type(log).__name__}, not a TrainingLog (bench.adapters.contract)",
        )
    if not log.passes:
        return fail(
            "clock",
            "fit returned a TrainingLog with no passes (add one per epoch/round/stage, with its "
            "train_s; TrainingLog.single for one solve)",
        )
    for i, row in enumerate(log.passes, start=1):
        problem = _pass_problem(row)
        if problem:
            return fail("clock", f"pass {i} of {len(log.passes)}: {problem}")
    for key in ("setup_s", "teardown_s"):
        if not _seconds(getattr(log, key, None)):
            return fail("clock", f"{key}={getattr(log, key, None)!r}: expected finite seconds >= 0")
    reported = log.setup_s + log.train_s + log.eval_s + log.teardown_s
    if reported > wall_s * 1.05 + 0.01:
        return fail(
            "clock",
            f"the log reports {reported:.3f} s but fit took {wall_s:.3f} s: "
            "seconds counted outside fit, or counted twice",
        )
    n, unit = len(log.passes), log.unit or "pass"
    return ok(
        "clock",
        f"{n} {unit}{'s' if n != 1 else ''}: training {log.train_s:.3f} s, "
        f"evaluation apart {log.eval_s:.3f} s, setup {log.setup_s:.3f} s, "
        f"teardown {log.teardown_s:.3f} s",
    )


def _seconds(value) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
        and float(value) >= 0
    )


def _pass_problem(row) -> str:
    """Why a pass row breaks the clock, or ""."""
    if not isinstance(row, dict):
        return f"a {type(row).__name__}, not a dict (use TrainingLog.add)"
    if "train_s" not in row or not _seconds(row["train_s"]):
        return f"train_s={row.get('train_s')!r}: expected finite seconds >= 0"
    if "eval_s" not in row:
        return "no eval_s: validation seconds go apart from train_s (0.0 when none; TrainingLog.add sets it)"
    if not _seconds(row["eval_s"]):
        return f"eval_s={row['eval_s']!r}: expected finite seconds >= 0"
    return ""


def predict_rule(adapter, x_test) -> tuple[Finding, np.ndarray | None]:
    """The probabilities finding, and the (N, k) array for the rules that compare predictions
    (None when there is none to compare)."""
    try:
        raw = adapter.predict_proba(x_test, batch_size=128)
    except Exception as exc:  # noqa: BLE001
        return fail("probabilities", f"predict_proba raised {one_line(exc)}"), None
    try:
        p = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return fail(
            "probabilities",
            f"predict_proba returned {type(raw).__name__}, not numbers ({one_line(exc)})",
        ), None
    comparable = p if p.ndim == 2 and len(p) == len(x_test) and p.shape[1] > 0 else None
    return _probability_finding(p, len(x_test)), comparable


def _probability_finding(p: np.ndarray, n: int) -> Finding:
    rule = "probabilities"
    if p.shape != (n, N_CLASSES):
        return fail(
            rule,
            f"shape {p.shape}, expected ({n}, {N_CLASSES}): one row per image, one column per class",
        )
    bad = ~np.isfinite(p).all(axis=1)
    if bad.any():
        return fail(rule, f"{int(bad.sum())} of {n} rows hold NaN or inf")
    if (p < 0).any():
        return fail(
            rule,
            f"{int((p < 0).any(axis=1).sum())} of {n} rows hold negative values (min {p.min():.3g})",
        )
    error = np.abs(p.sum(axis=1) - 1.0)
    off = error > ROW_SUM_TOLERANCE
    if off.any():
        sums = p.sum(axis=1)[off]
        return fail(
            rule,
            f"{int(off.sum())} of {n} rows do not sum to 1 (sums {sums.min():.4g} to {sums.max():.4g}, "
            f"tolerance {ROW_SUM_TOLERANCE:g})",
        )
    return ok(
        rule,
        f"({n}, {N_CLASSES}), finite, non-negative, rows sum to 1 (largest error {error.max():.1e})",
    )


def determinism_rule(proba, second, x_test, seed, second_seed, uses: bool) -> Finding:
    """The first fit's ``proba`` on ``x_test`` against the predictions of the ``second`` fit
    (its ``adapter``, or its ``error``), trained with ``second_seed``: the same classes."""
    rule = "determinism"
    how = (
        f"two fits with seed {seed}"
        if uses
        else f"fits with seeds {seed} and {second_seed} (uses_seed is False)"
    )
    if second.error is not None:
        return fail(rule, f"the second fit: {second.error}")
    if proba is None:
        return skip(
            rule, "not checked: predict_proba gave no (N, k) array to compare (see probabilities)"
        )
    try:
        other = np.asarray(second.adapter.predict_proba(x_test, batch_size=128), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001
        return fail(rule, f"predict_proba after the second fit raised {one_line(exc)}")
    if other.shape != proba.shape:
        return fail(rule, f"{how}: output shapes {proba.shape} and {other.shape} differ")
    differ = int((proba.argmax(axis=1) != other.argmax(axis=1)).sum())
    if differ:
        hint = "" if uses else "; if the model depends on the seed, uses_seed must say True"
        return fail(rule, f"{how}: {differ} of {len(proba)} predictions differ{hint}")
    return ok(rule, f"{how}: the same predictions on all {len(proba)} images")


def save_load_rule(cls, adapter, params, proba, x_test, threads) -> Finding:
    rule = "save/load"
    try:
        if not cls.can_save():
            return skip(rule, "the adapter does not implement save and load (can_save() is False)")
    except Exception as exc:  # noqa: BLE001
        return fail(rule, f"can_save raised {one_line(exc)}")
    if proba is None:
        return skip(
            rule, "not checked: predict_proba gave no (N, k) array to compare (see probabilities)"
        )
    with tempfile.TemporaryDirectory(prefix="bench-check-") as folder:
        step = "save"
        try:
            path = adapter.save(folder)
            step = "load"
            loaded = cls.load(path, dict(params), threads)
            step = "predict_proba after load"
            again = np.asarray(loaded.predict_proba(x_test, batch_size=128), dtype=np.float64)
        except Exception as exc:  # noqa: BLE001
            return fail(rule, f"{step} raised {one_line(exc)}")
    if again.shape != proba.shape:
        return fail(rule, f"shape {proba.shape} before saving, {again.shape} after load")
    differ = int((proba.argmax(axis=1) != again.argmax(axis=1)).sum())
    if differ:
        return fail(rule, f"{differ} of {len(proba)} predictions differ after load")
    gap = float(np.nanmax(np.abs(proba - again))) if proba.size else 0.0
    if not gap <= RELOAD_TOLERANCE:
        return fail(
            rule,
            f"the same predictions, but probabilities differ by up to {gap:.2g} after load "
            f"(tolerance {RELOAD_TOLERANCE:g})",
        )
    return ok(
        rule, f"saved as {Path(path).name}, loaded: the same predictions on all {len(proba)} images"
    )


# ---------------------------------------------------------------- check_params


def bad_values(defaults: dict) -> list[tuple[str, object, bool]]:
    """(key, bad value, of the right type) probes for each numeric default: a negative number
    (for a positive default: its negative; for zero: -1) and, for floats, NaN (both of the
    default's type), then a string (the wrong type). Booleans and strings are not probed."""
    probes = []
    for key, value in defaults.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        negative = -value if value > 0 else type(value)(-1)
        probes.append((key, negative, True))
        if isinstance(value, float):
            probes.append((key, float("nan"), True))
        probes.append((key, "not-a-number", False))
    return probes


def check_params_rule(cls) -> Finding:
    rule = "check_params"
    for profile in ("quick", "full"):
        try:
            cls.check_params(dict(cls.defaults[profile]))
        except Exception as exc:  # noqa: BLE001
            return fail(rule, f"refuses its own {profile} defaults: {one_line(exc)}")
    defaults = {**cls.defaults["full"], **cls.defaults["quick"]}
    probes = bad_values(cls.defaults["quick"])
    if not defaults:
        return skip(rule, "no hyper-parameters declared")
    if not probes:
        return skip(rule, "no numeric hyper-parameter to try a bad value on")
    refused, accepted = [], []
    for key, value, right_type in probes:
        try:
            cls.check_params({**cls.defaults["quick"], key: value})
        except ValueError:
            refused.append(f"{key}={value!r}")
            continue
        except Exception as exc:  # noqa: BLE001
            if (
                right_type
            ):  # the planner turns ValueError into a user error; anything else is a traceback
                return fail(rule, f"{key}={value!r} raised {one_line(exc)}, not ValueError")
            continue  # the CLI converts --set values to the default's type: a TypeError here is tolerable
        accepted.append(f"{key}={value!r}")
    if not refused:
        shown = ", ".join(accepted[:6]) + (
            f" and {len(accepted) - 6} more" if len(accepted) > 6 else ""
        )
        return fail(rule, f"check_params accepted every bad value we tried ({shown})")
    return ok(
        rule,
        f"refused {len(refused)} of {len(probes)} bad values (e.g. {refused[0]}); accepts its defaults",
    )


# ---------------------------------------------------------------- the test set


def test_set_rule(accesses: Iterable[str]) -> Finding:
    """Fails on any dataset read the test-set guard saw during ``prepare`` and ``fit``."""
    rule = "test set"
    seen = list(dict.fromkeys(accesses))
    if seen:
        more = f" (and {len(seen) - 2} more)" if len(seen) > 2 else ""
        return fail(
            rule,
            f"prepare/fit read the dataset: {'; '.join(seen[:2])}{more}; fit gets its training "
            "and validation arrays and must never load the test set",
        )
    return ok(rule, "prepare and fit opened no dataset file and called no dataset loader")
