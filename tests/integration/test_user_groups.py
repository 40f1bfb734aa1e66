"""A user's dataset that says who wrote each image (an npz's ``groups_train`` / ``groups_test``,
a CSV's ``group`` column): validation by whole writers, the test set's writers as the unit of
intervals and paired tests, carried by the records to every view. The unit is checked
against numbers computed here: how many writers the file gave, which images they wrote.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.data.test_user_groups``."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from bench import records
from bench.data import writers
from bench.gate import check
from bench.use import card
from tests.conftest import run_cli
from tests.unit.data.test_user_groups import _correct, _grouped_npz, _worse_on


def test_a_records_groups_are_the_unit_of_its_interval_and_of_the_gate(tmp_path, digits):
    """A real logreg run on an npz with writers; in this process (as in any view) the record
    alone makes the writers known: the card's interval resamples the 15 writers, and the
    gate's paired test is the sign-flip test over writers, enumerated here by hand."""
    _, g_test = _grouped_npz(tmp_path / "g.npz", digits)
    out = tmp_path / "results"
    done = run_cli(
        "run",
        "logreg",
        "--dataset",
        f"npz:{tmp_path / 'g.npz'}",
        "--profile",
        "quick",
        "--robustness",
        "off",
        "--no-save-models",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = sorted((out / "runs").glob("*.json"))
    assert json.loads(path.read_text())["data"]["val_split"] == "writers"
    (rec,) = records.read_all(out / "runs")
    groups = writers.test_groups(rec["outcomes"]["test_digest"], len(g_test))
    assert groups is not None and np.array_equal(groups[0] == groups, g_test[0] == g_test)
    ci = card._interval(rec)
    assert (ci.unit, ci.n_units) == ("writer", 15)
    # B also misses every image of three writers: per writer d_g = B's correct less A's
    a = records.read_all(out / "runs")[0]
    b = _worse_on(a, digits.y_test, np.flatnonzero(np.isin(g_test, ["w00", "w03", "w07"])))
    evidence = check.paired_evidence([a], [b])
    mask_a, mask_b = (
        np.bincount(np.unique(g_test, return_inverse=True)[1], weights=m.astype(float))
        for m in (_correct(a), _correct(b))
    )
    d = (mask_b - mask_a)[mask_b != mask_a]
    flips = [
        abs(sum(s * v for s, v in zip(signs, d)))
        for signs in itertools.product((-1, 1), repeat=len(d))
    ]
    assert len(d) == 3 and evidence.p == pytest.approx(
        np.mean(np.array(flips) >= abs(d.sum()) - 1e-9)
    )
    assert (
        evidence.p == pytest.approx(0.25) and evidence.lost == -d.sum()
    )  # 2 of 8 patterns as extreme
