"""The command line of a Python child process of the harness's own (a job's worker, the
cold-start probe, the peaks probe): it must import the same ``bench`` as this process.

``python -m MODULE`` puts the working directory first on the child's ``sys.path``, so a
``bench/__init__.py`` (or ``mnist_bench_models/``) in the user's folder would replace the
harness in the child even when this process does not see it (started as ``mnist-bench``,
whose ``sys.path`` starts at the script's folder). The child is then started with ``-P``
(Python 3.11+: no working directory on ``sys.path``). A process that has the working
directory on its path (``python -m bench``) keeps it in the child too, so a
``BENCH_EXTRA_MODELS`` module beside the user's files imports in both.
"""

from __future__ import annotations

import os
import sys


def python_m(module: str, *args: str) -> list[str]:
    """``[python, -m, module, *args]``, with ``-P`` when this process's ``sys.path`` lacks the
    working directory (see the module docstring)."""
    safe = sys.flags.safe_path or not _cwd_on_path()
    return [sys.executable, *(["-P"] if safe else []), "-m", module, *args]


def _cwd_on_path() -> bool:
    cwd = os.path.realpath(os.getcwd())
    return any(os.path.realpath(p or os.curdir) == cwd for p in sys.path)
