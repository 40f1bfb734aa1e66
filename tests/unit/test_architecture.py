"""The layered layout holds: import-linter's contracts (pyproject.toml) pass on the tree and
fail on a deliberately added upward import, function-level imports included; and
no package holds more than a quarter of the harness."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


def lint(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the copy at ``root``: ``bench`` from it, the built-in families from its
    ``models/`` (the package ``mnist_bench_models``), both ahead of the editable install's."""
    path = os.pathsep.join([str(root), str(root / "models")])
    return subprocess.run(
        [LINT, "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": path, "PATH": str(Path(sys.executable).parent)},
    )


def copy_tree(dst: Path) -> Path:
    for name in ("bench", "models"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def test_no_package_holds_more_than_a_quarter_of_the_harness():
    """One package per job: none of ``bench/``'s packages grows to hold a quarter of its lines
    (module and function sizes are a guideline in CONTRIBUTING.md, not a rule)."""
    bench = ROOT / "bench"
    lines = {p: len(p.read_text().splitlines()) for p in bench.rglob("*.py")}
    total = sum(lines.values())
    packages = [d for d in bench.iterdir() if (d / "__init__.py").is_file()]
    assert len(packages) >= 10
    share = {d.name: sum(n for p, n in lines.items() if d in p.parents) / total for d in packages}
    assert max(share.values()) <= 0.25, sorted(share.items(), key=lambda kv: -kv[1])


def test_every_package_says_what_it_owns_and_may_import():
    for init in ROOT.joinpath("bench").rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        if init.parent.name in ("bench", "executors"):
            continue
        assert "import" in doc, f"{init}: the docstring must say what the package may import"


def test_no_code_comment_names_an_issue_or_a_machine_specific_timing():
    """Code keeps the rule, the docs keep the measurement (docs/experiments/): no comment or
    docstring of the packages names an issue number, a 2-core machine or a measured time."""
    import re

    from tests.conftest import ROOT

    pattern = re.compile(
        r"#.*\bissues? \d+|#.*\b(this|a) 2-core\b|#.*\b\d+(\.\d+)? ?(s|ms)\b \(|"
        r"\bissues? \d+\b.*(chosen|measured)|\bon this (2-core )?(CPU|VM|machine)\b.*\d"
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for top in ("bench", "models")
        for path in sorted((ROOT / top).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
