"""The images behind a stored record, when they can be had here: a dataset's test images,
and its MNIST-C corrupted set, each only when it is the one the records were measured on
(the same digest). The report's galleries draw them; a dataset that cannot be loaded, or
that differs, gives None and a warning on stderr, never an error."""

from __future__ import annotations

import sys

from bench.core.errors import BenchError
from bench.data import corrupted, registry


def test_images(dataset: str, digest: str):
    """The dataset's test images if it can be loaded here and is the one the records used."""

    try:
        splits = registry.load(dataset).splits
    except BenchError as exc:
        print(f"warning: no mistake galleries for {dataset}: {exc}", file=sys.stderr)
        return None
    if splits.digest() != digest:
        print(
            f"warning: no mistake galleries for {dataset}: its content differs from the recorded one",
            file=sys.stderr,
        )
        return None
    return splits.x_test


def corrupted_set(dataset: str, digest: str, n: int):
    """(test images, ``bench.data.corrupted`` set) when the dataset's corrupted test set can
    be made here and is the one the records used (its digest, or that of its ``subset(n)``,
    equals ``digest``); else None, with a warning on stderr."""

    try:
        splits = registry.load(dataset).splits
        cset = corrupted.load(splits.x_test, splits.y_test, splits.test_digest())
    except (
        BenchError,
        OSError,
    ) as exc:  # OSError: a data folder it cannot write the built set into
        print(f"warning: no corruption gallery for {dataset}: {exc}", file=sys.stderr)
        return None
    if cset.digest != digest and n < len(cset.indices):
        cset = cset.subset(n)
    if cset.digest != digest:
        print(
            f"warning: no corruption gallery for {dataset}: its corrupted set differs from the recorded one",
            file=sys.stderr,
        )
        return None
    return splits.x_test, cset
