"""Model registry: name -> adapter class, filled by plugin packages.

The registry knows no model itself. Model families are plugins: ``models`` (this
repository's families, one module each) and the modules named in ``BENCH_EXTRA_MODELS``
(comma-separated, importable: your own adapters, or the test suite's fault-injecting ones).
They are imported by name, the first time the registry is asked, in every process (job
workers included), so that ``bench`` never imports ``models`` at code level: the families
depend on the harness, never the other way round.

Adding a model is one ``Adapter`` subclass with the ``@register`` line, in any module of
the ``models`` package: every module there is imported (its name needs no listing).
Modules import their frameworks lazily, inside methods, so importing them all is cheap. To
put the model in the default suite (``--all``), add its name to ``DEFAULT_SUITE``; tag it
``("reference",)`` to put it in ``--suite reference``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

from bench.adapters.contract import Adapter
from bench.core.errors import BenchError

PLUGIN_PACKAGE = "models"
REGISTRY: dict[str, type[Adapter]] = {}


def _package_modules(package: str) -> tuple[str, ...]:
    """Every module of plugin ``package``, sorted (registration order follows it)."""
    pkg = importlib.import_module(package)
    return tuple(f"{package}.{m.name}" for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name))


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
    families = _package_modules(PLUGIN_PACKAGE)
    for module in (*families, *extra):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            if module in families:
                raise
            raise BenchError(f"BENCH_EXTRA_MODELS: cannot import {module!r} ({exc})") from None


def names() -> list[str]:
    """All registered model names: the default suite in its order, then the others."""
    _load_all()
    return [n for n in DEFAULT_SUITE if n in REGISTRY] + [n for n in REGISTRY if n not in DEFAULT_SUITE]


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
        raise BenchError(f"unknown model {name!r}; choose from: {', '.join(names())}") from None
