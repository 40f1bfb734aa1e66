"""THE training clock of a record, and time to accuracy on that same clock.

The adapter contract (``bench.adapters.contract.Adapter``) states the clock; this module
turns an adapter's ``TrainingLog`` and the timed region into the record's figures and
curves. Pure numpy.
"""

from __future__ import annotations

import numpy as np

from bench.adapters.training_log import reaches


def training_figures(
    fit_wall_s: float, training, n_train: int, train_flops_per_image: float | None
) -> dict:
    """The record's training figures from the timed region and the adapter's ``TrainingLog``.

    fit_s               the training clock: the timed region (``adapter.fit``) less the
                        validation evaluation the adapter reported (``eval_s``)
    pass_train_s        the per-pass training seconds summed; ``fit_s - setup_s -
                        pass_train_s - teardown_s`` is ``unaccounted_s``, which stays near
                        zero when the clock times nothing but training (tested for every
                        family)
    train_images_per_s  training images processed over ALL passes / ``fit_s`` (None where
                        the training is not passes over the data, e.g. the SVM's solve)
    train_gflops_per_s  training FLOPs per image (forward and backward, counted from the
                        architecture: ``Adapter.train_flops_per_image``) x the same images /
                        ``fit_s``; None where they are not counted
    first_pass_s / steady_pass_s  the first pass and the median of the later ones
    """
    passes = [p["train_s"] for p in training.passes]
    fit_s = fit_wall_s - training.eval_s
    images = training.images_processed
    ips = images / fit_s if images and fit_s > 0 else None
    return {
        "fit_s": fit_s,
        "fit_wall_s": fit_wall_s,
        "eval_s": training.eval_s,
        "setup_s": training.setup_s,
        "teardown_s": training.teardown_s,
        "pass_train_s": training.train_s,
        "unaccounted_s": fit_s - training.setup_s - training.train_s - training.teardown_s,
        "pass_unit": training.unit,
        "passes": len(passes),
        "data_passes": images / n_train if images else None,
        "images_processed": images,
        "first_pass_s": passes[0] if passes else None,
        "steady_pass_s": float(np.median(passes[1:])) if len(passes) > 1 else None,
        "train_images_per_s": ips,
        "train_gflops_per_s": train_flops_per_image * ips / 1e9
        if train_flops_per_image and ips
        else None,
    }


TTA_TARGETS = (0.97, 0.98, 0.99, 0.995)  # the validation-accuracy ladder every record carries


def accuracy_curve(
    history, images_processed, final_val_accuracy=None, start_s: float = 0.0
) -> list[dict]:
    """Validation accuracy against the training clock: one point per pass that was
    evaluated, ``{"train_s", "images", "pass", "val_accuracy"}``, where ``train_s`` is
    ``start_s`` plus the per-pass training seconds so far (evaluation excluded) and ``images``
    the training images processed so far. A model evaluated only once at the end (logreg,
    SVM) gives one point: its whole training time and its final validation accuracy.

    ``start_s`` is what the clock spent before the first pass: ``start_of(timing)``."""
    rows = [h for h in (history or []) if isinstance(h, dict)]
    per_pass = images_processed / len(rows) if images_processed and rows else None
    curve, clock = [], float(start_s or 0.0)
    for i, h in enumerate(rows, start=1):
        clock += float(h.get("train_s") or 0.0)
        if h.get("val_accuracy") is not None:
            curve.append(
                {
                    "train_s": clock,
                    "images": per_pass * i if per_pass else None,
                    "pass": int(h.get("pass", i)),
                    "val_accuracy": float(h["val_accuracy"]),
                }
            )
    if (
        not curve
        and rows
        and final_val_accuracy is not None
        and final_val_accuracy == final_val_accuracy
    ):
        curve.append(
            {
                "train_s": clock,
                "images": images_processed,
                "pass": len(rows),
                "val_accuracy": float(final_val_accuracy),
            }
        )
    return curve


def start_of(setup_s, unaccounted_s=None) -> float:
    """Clock seconds before the first pass: ``setup_s`` plus ``unaccounted_s`` (time the timed
    region spent outside setup, passes and teardown, charged before the first pass so that a
    time to accuracy is never flattering; a clock's rounding can make it a hair negative).
    With it, the time to the last pass's accuracy is exactly ``fit_s - teardown_s``."""

    def number(v) -> float:
        return float(v) if isinstance(v, (int, float)) and v == v else 0.0

    return number(setup_s) + number(unaccounted_s)


def record_curve(rec) -> list[dict]:
    """``accuracy_curve`` of a stored record (a flattened leaderboard row whose missing
    numbers are NaN), on the record's own clock (``start_of``)."""

    def value(key):
        v = rec.get(key)
        return None if v is None or v != v else v

    return accuracy_curve(
        rec.get("history"),
        value("timing.images_processed"),
        value("metrics.val_accuracy"),
        start_of(value("timing.setup_s"), value("timing.unaccounted_s")),
    )


def time_to_accuracy(
    history, images_processed, final_val_accuracy=None, targets=TTA_TARGETS, start_s: float = 0.0
) -> dict:
    """For each target (keyed ``"0.99"``): the first point of ``accuracy_curve`` whose
    validation accuracy reached it (``bench.adapters.contract.reaches``), or ``None`` when
    training never did."""
    curve = accuracy_curve(history, images_processed, final_val_accuracy, start_s)
    return {f"{t:g}": first_reaching(curve, t) for t in targets}


def first_reaching(curve: list[dict], target: float) -> dict | None:
    """The first point of ``curve`` whose validation accuracy reached ``target``, or None."""
    return next((dict(c) for c in curve if reaches(c["val_accuracy"], target)), None)
