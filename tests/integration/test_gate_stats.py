"""The gate (issue 31): paired evidence only on the baseline's test set, and a tolerance with
a stated false-failure rate (a prediction interval over the baseline's seeds), checked by
simulation and against statsmodels; on hand-edited copies of committed records.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.gate.test_gate_stats``."""

from __future__ import annotations

import numpy as np
import pytest

from bench.gate import tolerance as tol
from tests.unit.gate.test_gate_stats import (
    _gate,
    _other_test_set,
    _row,
    cnn_small,  # noqa: F401 (fixtures)
)


@pytest.mark.parametrize("n", [12000, 10000])
def test_other_test_set_is_data_differs_without_pairing_or_traceback(cnn_small, tmp_path, n):
    """12,000 images: a ValueError traceback before the fix; another 10,000: McNemar counts
    printed beside "data differs". Now: data differs, no paired evidence, exit 1."""
    proc = _gate(tmp_path, cnn_small, [_other_test_set(cnn_small[0], n)])
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    cells = _row(proc)
    assert cells[7] == "DATA DIFFERS" and "no paired evidence" in cells[8]
    assert cells[5] == "-" and cells[6] == "-"  # images won / lost, paired p
    assert "FAIL: cnn-small" in proc.stdout


def test_same_test_set_is_paired_seed_with_seed(cnn_small, tmp_path):
    proc = _gate(tmp_path, cnn_small, [cnn_small[0]])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cells = _row(proc)
    assert cells[5] == "+0 / -0" and cells[6] == "p=1.000" and cells[7] == "ok"
    assert "here m = 1" in proc.stdout and "fails 0.5% of the time" in proc.stdout


def test_half_width_is_statsmodels_prediction_interval_for_one_new_seed():
    """An intercept-only OLS: statsmodels' obs_ci for a new observation is mean ± t s sqrt(1 + 1/n)."""
    import statsmodels.api as sm

    for acc in ([0.967, 0.9701, 0.9639], [0.98, 0.981, 0.9795, 0.9822, 0.97]):
        y = np.asarray(acc)
        pred = (
            sm.OLS(y, np.ones((len(y), 1)))
            .fit()
            .get_prediction(np.ones((1, 1)))
            .summary_frame(alpha=0.01)
        )
        half = float(pred["obs_ci_upper"].iloc[0] - y.mean())
        assert tol.half_width(y.std(ddof=1), len(y), 1, 0.01) == pytest.approx(half, rel=1e-9)
