"""A model from a ``--plugin`` file goes everywhere a built-in goes: its own leaderboard row
(marked ``[plugin]``), ``vs best``, ``compare`` pairing it across two folders, ``--resume``,
a grid over its parameter, the saved model's card and ``predict``, and a Dask worker."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import ROOT, run_cli

PLUGIN = str(ROOT / "tests" / "plugins" / "centroid.py")
FAST = (
    "--dataset",
    "digits",
    "--profile",
    "quick",
    "--robustness",
    "off",
    "--infer-min-seconds",
    "0.05",
    "--infer-min-repeats",
    "3",
    "--no-plots",
)


def _centroid_accuracy(digits) -> float:
    """The plugin's test accuracy recomputed here with NumPy from the shared preprocessing."""
    from bench.measure.profiles import PROFILES
    from bench.prep.preprocess import prepare

    prep = prepare(
        digits.x_train, digits.y_train, digits.x_test, digits.y_test, PROFILES["quick"].split
    )
    x_train, _, x_test = prep.views("flat")
    means = np.stack([x_train[prep.y_train == k].mean(0) for k in range(10)])
    dist = ((x_test[:, None, :] - means[None]) ** 2).sum(-1)
    return float((dist.argmin(1) == prep.y_test).mean())


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin")
    for tag in ("a", "b"):
        proc = run_cli(
            "run", "centroid", "logreg", "--plugin", PLUGIN, *FAST, "--out", str(root / tag)
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return root


def test_a_worker_without_the_plugin_file_says_which_host(tmp_path):
    from bench.adapters import registry
    from bench.core.errors import BenchError

    with pytest.raises(BenchError, match=r"cannot read it on host .+\(No such file"):
        registry.restore(
            {"kind": "plugin-file", "path": str(tmp_path / "gone.py"), "sha256": "0" * 64}
        )
