"""Model registry: name -> adapter class.

Adding a model is one ``Adapter`` subclass plus one ``register`` line in its family
module, and that module's name in ``FAMILY_MODULES``. Family modules import their
frameworks lazily, inside methods, so importing this registry is cheap.

Adapters outside this package (your own, or the test suite's fault-injecting ones) are
loaded from the modules named in ``BENCH_EXTRA_MODELS`` (comma-separated, importable), in
every process, job workers included.
"""

from __future__ import annotations

import importlib
import os

from bench.errors import BenchError
from models.base import Adapter

REGISTRY: dict[str, type[Adapter]] = {}
FAMILY_MODULES = ("models.linear", "models.svm", "models.boosting", "models.mlp", "models.cnn", "models.reference")
DEFAULT_SUITE = ("logreg", "svm", "xgboost", "mlp", "cnn-small", "cnn-deep")
SUITES = ("default", "reference")


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: add ``cls`` to the registry under ``cls.name``."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"model name {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    extra = [m.strip() for m in os.environ.get("BENCH_EXTRA_MODELS", "").split(",") if m.strip()]
    for module in (*FAMILY_MODULES, *extra):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            if module in FAMILY_MODULES:
                raise
            raise BenchError(f"BENCH_EXTRA_MODELS: cannot import {module!r} ({exc})") from None


def names() -> list[str]:
    """All registered model names, in registration order."""
    _load_all()
    return list(REGISTRY)


def suite(name: str) -> list[str]:
    """Model names of a suite: ``default`` (the six families) or ``reference`` (tagged models)."""
    if name == "default":
        return list(DEFAULT_SUITE)
    if name == "reference":
        return [n for n in names() if "reference" in REGISTRY[n].tags]
    raise BenchError(f"unknown suite {name!r}; choose from: {', '.join(SUITES)}")


def get(name: str) -> type[Adapter]:
    """The adapter class for ``name``; ``BenchError`` listing the valid names otherwise."""
    _load_all()
    try:
        return REGISTRY[name]
    except KeyError:
        raise BenchError(f"unknown model {name!r}; choose from: {', '.join(REGISTRY)}") from None
