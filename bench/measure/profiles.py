"""Profiles: how much data and which hyper-parameter set a run uses.

``full``: the whole training set less a 1/12 validation split (MNIST: whole writers held
out, 54,921 train / 5,079 val, no training writer in validation; other datasets: a
stratified 1/12 of the images; ``bench.prep.preprocess.prepare_splits``), the whole test
set, each model's ``full`` defaults; robustness on 1,000 base test images per corruption
(a fixed stratified subset: 2,000 would cost over the 10% wall-time budget, mostly in the
SVM's prediction).
``quick``: the same split capped at 6,000 train / 1,000 val images (stratified), the
whole test set, each model's ``quick`` defaults (fewer epochs/rounds), for CI; robustness
on 500 base test images per corruption (a nested subset of the full profile's).

The split seed is fixed (0), not the job seed: every model and every seed of a profile
trains on the same images, so seed-to-seed spread measures the models, not the sampling.
MNIST's validation writers are, like its test writers, new to the model: validation
accuracy (and "time to X (val)") then measures what the test set measures, new writers.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.measure.timing import InferenceProtocol, TimingRule
from bench.prep.preprocess import SplitRule


@dataclass(frozen=True)
class Profile:
    name: str
    split: SplitRule
    inference: InferenceProtocol
    timeout_s: float  # default per-job timeout
    corrupted_n: int = 1000  # base test images per MNIST-C corruption (``bench.data.corrupted``)


PROFILES = {
    "full": Profile("full", SplitRule(val_fraction=1 / 12), InferenceProtocol(), timeout_s=3600.0),
    "quick": Profile(
        "quick",
        SplitRule(val_fraction=1 / 12, max_train=6000, max_val=1000),
        InferenceProtocol(
            large=TimingRule(warmup=1, min_repeats=3, min_seconds=1.0),
            single=TimingRule(warmup=5, min_repeats=30, min_seconds=1.0),
        ),
        timeout_s=600.0,
        corrupted_n=500,
    ),
}
