"""What one ``fit`` did, and the clock that measures it: ``TrainingLog`` (the passes, with
their training seconds apart from evaluation), ``Stopwatch`` for timing blocks inside
``fit``, ``reaches`` for ``--target``. The rules of the clock are stated once, in
``bench.adapters.contract``'s docstring (THE CLOCK)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from bench.core.errors import BenchError


def quiet(_: str) -> None:
    """Default ``log``: discard progress lines."""


def reaches(accuracy, target) -> bool:
    """True when ``accuracy`` reached ``target``. Keras reports accuracies as float32, so 1e-7
    below counts (a validation split of 5,000 images moves in steps of 2e-4); a missing value
    or target (``None``, or a bool passed by mistake) never reaches."""
    if accuracy is None or target is None or isinstance(target, bool):
        return False
    return float(accuracy) >= float(target) - 1e-7


def _non_finite_word(value) -> str:
    """``"nan"``, ``"inf"`` or ``"-inf"`` for a non-finite real number, else ``""``
    (bools, strings and other values are never non-finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return ""
    v = float(value)
    if v != v:
        return "nan"
    return "" if abs(v) != float("inf") else ("inf" if v > 0 else "-inf")


@dataclass
class TrainingLog:
    """What one ``fit`` did, in the units the framework trains in.

    unit              what one pass is: ``"epoch"``, ``"boosting round"``, ``"stage"`` ...
    passes            one dict per pass, in order, each with ``train_s`` (training seconds of
                      that pass, evaluation excluded) and ``eval_s`` (validation evaluation
                      seconds, 0.0 when none) plus whatever the pass measured (``loss``,
                      ``val_accuracy`` ...); ``pass`` numbers them from 1
    setup_s           seconds inside ``fit`` before the first pass (data conversion, the
                      framework building its input pipeline)
    teardown_s        seconds inside ``fit`` after the last pass (the framework shutting its
                      input pipeline down)
    images_processed  training images processed over all passes (counting repeats), or None
                      where the training is not a sequence of passes over the data
    info              other facts worth recording (``converged``, ``iterations`` ...)
    """

    unit: str
    passes: list[dict] = field(default_factory=list)
    setup_s: float = 0.0
    teardown_s: float = 0.0
    images_processed: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def train_s(self) -> float:
        return float(sum(p["train_s"] for p in self.passes))

    @property
    def eval_s(self) -> float:
        return float(sum(p.get("eval_s", 0.0) for p in self.passes))

    def reached(self, target: float | None) -> bool:
        """True when ``target`` is set and the last pass's validation accuracy reached it."""
        return bool(self.passes) and reaches(self.passes[-1].get("val_accuracy"), target)

    def stop_at_target(
        self, target: float | None, planned: int | None, applies: bool = True
    ) -> None:
        """Record what ``--target`` did: ``info["target"]`` = value, whether it applied,
        whether training stopped early, at which pass, of how many planned."""
        if target is None:
            return
        stopped = (
            applies
            and bool(self.passes)
            and self.reached(target)
            and planned is not None
            and len(self.passes) < planned
        )
        self.info["target"] = {
            "value": target,
            "applies": applies,
            "stopped_early": stopped,
            "at_pass": len(self.passes) if stopped else None,
            "planned_passes": planned,
        }

    def add(self, train_s: float, eval_s: float = 0.0, **measured) -> dict:
        """Append the next pass; returns its row."""
        row = {
            "pass": len(self.passes) + 1,
            "train_s": float(train_s),
            "eval_s": float(eval_s),
            **measured,
        }
        self.passes.append(row)
        return row

    def first_non_finite(self) -> dict | None:
        """Where training diverged: ``{"first_pass": k, "unit", "what": "loss nan"}`` for the
        first pass (numbered from 1) with a NaN or infinite measured value (``loss``,
        ``val_loss``, ``accuracy`` ... every numeric key but the pass's number and seconds;
        ``what`` names every such key of that pass), None when every value is finite."""
        for i, row in enumerate(self.passes, start=1):
            bad = [
                f"{k} {_non_finite_word(v)}"
                for k, v in row.items()
                if k not in ("pass", "train_s", "eval_s") and _non_finite_word(v)
            ]
            if bad:
                return {
                    "first_pass": int(row.get("pass", i)),
                    "unit": self.unit,
                    "what": ", ".join(bad),
                }
        return None

    @classmethod
    def single(cls, unit: str, seconds: float, images: int | None, **info) -> TrainingLog:
        """One pass covering the whole solve, for solvers whose passes cannot be timed."""
        log = cls(unit, images_processed=images, info=info)
        log.add(seconds)
        return log

    @classmethod
    def require(cls, result, where: str) -> TrainingLog:
        """``result`` when it is a ``TrainingLog``; ``BenchError`` naming ``where`` (the adapter's
        ``fit``) and what it returned otherwise: the clock's figures come from it."""
        if isinstance(result, cls):
            return result
        raise BenchError(
            f"{where} returned {type(result).__name__}, not a TrainingLog (bench.adapters.contract): "
            "the passes it made with their training seconds are required"
        )


class Stopwatch:
    """``with watch: ...`` adds the block's wall time (perf_counter) to ``watch.seconds``."""

    def __init__(self):
        self.seconds = 0.0

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._t0
        return False

    def take(self) -> float:
        """The seconds so far, then reset to zero."""
        out, self.seconds = self.seconds, 0.0
        return out
