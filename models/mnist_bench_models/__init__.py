"""This repository's model families (``models/`` in the source tree, installed as the package
``mnist_bench_models`` so that no folder of a user's shadows it): one module per family,
registered through the entry-point group ``mnist_bench.models`` in ``pyproject.toml``
(``builtin = "mnist_bench_models:families"``), exactly as a third-party plugin's would be.
A new family is one ``Adapter`` subclass with ``@register`` in a module listed in
``MODULES``.

Modules here may import ``bench.core``, ``bench.data``, ``bench.prep`` and
``bench.adapters`` (the contract they implement), never the layers above; frameworks are
imported inside methods.
"""

import importlib

MODULES = ("linear", "svm", "boosting", "mlp", "cnn", "reference")  # the default suite's order


def families() -> list:
    """Every built-in adapter class, in the order of ``MODULES`` and, within one, of definition
    (each module registers its classes with ``@register`` as it is imported)."""
    from bench.adapters.contract import Adapter

    out = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        out += [
            c
            for c in vars(module).values()
            if isinstance(c, type)
            and issubclass(c, Adapter)
            and c.__module__ == module.__name__
            and "name" in c.__dict__
        ]
    return out
