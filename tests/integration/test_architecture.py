"""The layered layout holds: import-linter's contracts (pyproject.toml) pass on the tree and
fail on a deliberately added upward import, function-level imports included; and
no package holds more than a quarter of the harness.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.test_architecture``."""

from __future__ import annotations

import pytest

from tests.unit.test_architecture import copy_tree, lint


def test_the_tree_keeps_every_contract(tmp_path):
    proc = lint(copy_tree(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(
    "module, line",
    [
        (
            "bench/core/errors.py",
            "from bench.run import runner  # noqa\n",
        ),  # the floor importing the top
        (
            "bench/records/schema.py",
            "def _up():\n    from bench.analysis import stats  # noqa\n",
        ),  # inside a function
        (
            "bench/adapters/registry.py",
            "import mnist_bench_models.linear  # noqa\n",
        ),  # the harness importing a plugin
        (
            "models/mnist_bench_models/linear.py",
            "from bench.run import plan  # noqa\n",
        ),  # a plugin reaching too high
        (
            "bench/run/plan.py",
            "def _circle():\n    from bench.run import runner  # noqa\n",
        ),  # a circle in run
    ],
)
def test_an_upward_import_breaks_a_contract(tmp_path, module, line):
    root = copy_tree(tmp_path)
    with open(root / module, "a") as fh:
        fh.write("\n\n" + line)
    proc = lint(root)
    assert proc.returncode != 0, proc.stdout
    assert "BROKEN" in proc.stdout
