"""What ``models/`` plugs into: the adapter contract and the training clock it keeps
(``contract``), architectures as data (``arch``), and the registry (``registry``) that loads
the model plugins by name.

May import ``bench.core`` and ``bench.prep``; never ``mnist_bench_models`` at code level (plugins are
registered through entry points, see ``registry``).

The public API for plugin authors is re-exported here (``from bench.adapters import
Adapter, TrainingLog, register``, and the generic adapters ``sklearn_model`` and
``keras_model`` of ``bench.adapters.generic``); importing it loads no framework.
"""

from bench.adapters.contract import Adapter, ParamCount, require
from bench.adapters.registry import register
from bench.adapters.training_log import Stopwatch, TrainingLog, quiet

__all__ = [
    "Adapter",
    "ParamCount",
    "Stopwatch",
    "TrainingLog",
    "keras_model",
    "quiet",
    "register",
    "require",
    "sklearn_model",
]


def __getattr__(attr: str):
    """``sklearn_model`` / ``keras_model``, imported on first use."""
    if attr in ("sklearn_model", "keras_model"):
        from bench.adapters import generic

        return getattr(generic, attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
