"""``compare`` (issue 31): before/after means over the seeds it tests, the seeds left out named,
and one Holm family over the clean and corrupted tables; on hand-edited copies of the committed
quick cnn-small records (no training).

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.analysis.test_compare_seeds``."""

from __future__ import annotations

import numpy as np

from bench import measure
from bench.data import writers
from tests.conftest import run_cli
from tests.unit.analysis.test_compare_seeds import (
    _fog_worse,
    cnn_small,  # noqa: F401 (fixtures)
    row,
    worse_by,
    write,
)


def test_issue_case_means_over_the_matched_seed_and_names_the_seeds_left_out(cnn_small, tmp_path):
    """A: 3 seeds; B: seed 0 only, 20 more images wrong than A's seed 0. Before the fix the row
    read +0.11 pp (A's mean over 3 seeds against B's one) beside WORSE."""
    a = write(tmp_path / "a", cnn_small.values())
    b = write(tmp_path / "b", [worse_by(cnn_small[0], 20, "b")])
    proc = run_cli("compare", str(a), str(b))
    assert proc.returncode == 0, proc.stderr
    cells = row(proc.stdout)
    acc0 = cnn_small[0]["metrics"]["accuracy"]
    assert cells[2] == f"{100 * acc0:.2f}" and cells[3] == f"{100 * (acc0 - 20 / 10000):.2f}"
    assert cells[4] == "-0.20" and cells[5] == "+0 / -20" and cells[7] == "0"
    assert cells[8].startswith("WORSE") and "seeds 1, 2 of before not in after" in cells[8]
    mean3 = np.mean([r["metrics"]["accuracy"] for r in cnn_small.values()])
    assert f"{100 * mean3:.2f}" != cells[2]  # the mean over the 3 seeds is not what is shown


def test_fail_on_worse_uses_one_family_across_the_two_tables(cnn_small, tmp_path):
    """Seed 0 loses 6 clean images, each of another writer (the per-writer sign-flip p, exact:
    2 / 2^6 = 0.031), and 6 fog base images (the same over base images): each table on its own
    calls it WORSE at 5% and
    ``--fail-on-worse`` exited 1 (up to 2 alpha over the union); one Holm family of the two
    tests gives 0.0625 for both: no significant change, exit 0."""
    a = write(tmp_path / "a", [cnn_small[0]])
    lost = np.flatnonzero(measure.correct_mask(cnn_small[0]["outcomes"]))[:6]
    assert len(set(writers.mnist_test().writer[lost])) == 6  # six writers, one image each
    b = write(tmp_path / "b", [_fog_worse(worse_by(cnn_small[0], 6, "b"), 6, "")])
    proc = run_cli("compare", str(a), str(b), "--fail-on-worse")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    clean, corrupted = row(proc.stdout, 0), row(proc.stdout, 1)
    assert clean[5] == "+0 / -6" and corrupted[5] == "+0 / -6"
    assert clean[6] == corrupted[6] == "p=0.062"  # 2 x 0.03125, by hand
    assert "no significant change" in clean[8] and "no significant change" in corrupted[8]
    assert "Holm over the 2 comparison(s) tested, clean and corrupted together" in proc.stdout
