"""The layered layout holds: import-linter's contracts (pyproject.toml) pass on the tree and
fail on a deliberately added upward import, function-level imports included; modules and
functions stay within the sizes the developers' guide asks for."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


def lint(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the copy at ``root``: ``bench`` from it, the built-in families from its
    ``models/`` (the package ``mnist_bench_models``), both ahead of the editable install's."""
    path = os.pathsep.join([str(root), str(root / "models")])
    return subprocess.run([LINT, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": path, "PATH": str(Path(sys.executable).parent)})


def copy_tree(dst: Path) -> Path:
    for name in ("bench", "models"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def test_the_tree_keeps_every_contract(tmp_path):
    proc = lint(copy_tree(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize("module, line", [
    ("bench/core/errors.py", "from bench.run import runner  # noqa\n"),  # the floor importing the top
    ("bench/records/schema.py", "def _up():\n    from bench.report import stats  # noqa\n"),  # inside a function
    ("bench/adapters/registry.py", "import mnist_bench_models.linear  # noqa\n"),  # the harness importing a plugin
    ("models/mnist_bench_models/linear.py", "from bench.run import plan  # noqa\n"),  # a plugin reaching too high
    ("bench/run/plan.py", "def _circle():\n    from bench.run import runner  # noqa\n"),  # a circle in run
])
def test_an_upward_import_breaks_a_contract(tmp_path, module, line):
    root = copy_tree(tmp_path)
    with open(root / module, "a") as fh:
        fh.write("\n\n" + line)
    proc = lint(root)
    assert proc.returncode != 0, proc.stdout
    assert "BROKEN" in proc.stdout


def _sizes():
    for path in sorted([*ROOT.joinpath("bench").rglob("*.py"), *ROOT.joinpath("models").rglob("*.py")]):
        tree = ast.parse(path.read_text())
        funcs = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        yield path.relative_to(ROOT), path.read_text().count("\n"), funcs


def test_modules_and_functions_stay_small():
    too_long = [(str(p), n) for p, n, _ in _sizes() if n > 350]
    big = [(str(p), name, n) for p, _, funcs in _sizes() for name, n in funcs if n > 55]
    assert not too_long, too_long
    assert not big, big


def test_every_package_says_what_it_owns_and_may_import():
    for init in ROOT.joinpath("bench").rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        if init.parent.name in ("bench", "executors"):
            continue
        assert "import" in doc, f"{init}: the docstring must say what the package may import"
