"""The test-set guard of the conformance checker (``bench.adapters.conformance``): ``with
TestSetWatch() as w: ...`` lists in ``w.accesses`` every dataset read made in the block.

How "no access to the test set" is checked (``TestSetWatch``). ``fit`` receives the training
and validation arrays only, and the checker holds no test image while an adapter is
prepared or fitted: both fits run before the test slice is loaded (``load_digits`` builds
the arrays afresh on every call; nothing in ``bench.data`` caches them), so an adapter that
sees test images during ``fit`` must have fetched them itself. Two independent detectors
watch for that, over ``prepare`` and ``fit``:

1. an audit hook (``sys.addaudithook``, PEP 578; installed once per process, inert outside a
   watch) on ``open`` events whose path lies under a dataset location: scikit-learn's bundled
   ``digits.csv.gz`` (the digits set's train *and* test images come from it), the harness's
   dataset cache (``BENCH_DATA_DIR``), Keras' download folder (``~/.keras/datasets``) and the
   Fashion-MNIST folders; plus ``urllib.Request`` events to the Keras dataset mirror. Every
   Python route to those bytes (``bench.data.load``, ``sklearn.datasets.load_digits``,
   ``keras.datasets.mnist.load_data``, ``np.load``, a plain ``open``) ends in such an event,
   whatever name the adapter imported the function under;
2. the loaders of ``bench.data`` (``load``, ``load_builtin``, ``load_digits``, ``read_cache``)
   and ``sklearn.datasets.load_digits`` are wrapped for the duration, which names the call
   in the report (a reference bound before the check, ``from bench.data import load`` at a
   module's top, escapes this one but not the audit hook).

What it cannot see: reads by native code that bypasses Python's ``open`` (TensorFlow's own
file system layer, ``tf.io.gfile``), another process (a subprocess, a server), test images
smuggled in through the adapter's own module state before the check began, and network
downloads of other mirrors. It is a check for honest mistakes, not a sandbox.

Side effect: the audit hook stays installed once a watch was entered (Python offers no
removal), doing nothing outside a watch.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path


def dataset_locations() -> list[str]:
    """Absolute paths (files or folders) whose reading during ``fit`` means reading a test set."""
    from bench.data import data_dir

    places = [
        data_dir(),
        Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets",
        Path("/usr/share/datasets/fashion-mnist"),
    ]
    if os.environ.get("BENCH_FASHION_DIR"):
        places.append(Path(os.environ["BENCH_FASHION_DIR"]))
    with contextlib.suppress(Exception):
        from importlib import resources

        places.append(Path(str(resources.files("sklearn.datasets.data").joinpath("digits.csv.gz"))))
    out = []
    for place in places:
        for form in (os.path.abspath(place), os.path.realpath(place)):
            if form not in out:
                out.append(form)
    return out


MIRRORS = ("storage.googleapis.com/tensorflow/tf-keras-datasets",)
_LOADERS = (
    ("bench.data", ("load", "load_builtin", "load_digits")),
    ("bench.data.registry", ("load", "load_builtin", "load_digits", "read_cache")),
    ("sklearn.datasets", ("load_digits",)),
)
_ACTIVE: list = []  # the watches in force; the audit hook does nothing while it is empty
_HOOK = {"installed": False}
_GUARD = threading.local()


def _audit(event: str, args: tuple) -> None:
    """The process's audit hook: records dataset reads while a watch is active. Never raises
    (an exception here would abort the audited operation)."""
    if not _ACTIVE or event not in ("open", "urllib.Request") or getattr(_GUARD, "busy", False):
        return
    _GUARD.busy = True
    try:
        for watch in _ACTIVE:
            watch.audit(event, args)
    except Exception:  # noqa: BLE001, S110 - see the docstring
        pass
    finally:
        _GUARD.busy = False


class TestSetWatch:
    """``with TestSetWatch() as w: ...``: ``w.accesses`` lists each dataset read in the block,
    one short line each (see the module docstring)."""

    __test__ = False  # not a pytest class

    def __init__(self):
        self.accesses: list[str] = []
        self.places = dataset_locations()
        self._saved: list = []

    def __enter__(self):
        if not _HOOK["installed"]:
            sys.addaudithook(_audit)
            _HOOK["installed"] = True
        self._wrap_loaders()
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc):
        _ACTIVE.remove(self)
        for module, attr, original in reversed(self._saved):
            setattr(module, attr, original)
        self._saved.clear()
        return False

    def audit(self, event: str, args: tuple) -> None:
        if event == "urllib.Request":
            url = str(args[0]) if args else ""
            if any(m in url for m in MIRRORS):
                self._note(f"downloaded {url}")
            return
        path = args[0] if args else None
        if isinstance(path, int) or path is None:
            return
        full = os.path.abspath(os.fsdecode(path))
        if any(full == p or full.startswith(p.rstrip(os.sep) + os.sep) for p in self.places):
            self._note(f"opened {full}")

    def _note(self, line: str) -> None:
        if line not in self.accesses:
            self.accesses.append(line)

    def _wrap_loaders(self) -> None:
        for module_name, attrs in _LOADERS:
            module = sys.modules.get(module_name)
            if module is None:
                continue
            for attr in attrs:
                original = getattr(module, attr, None)
                if callable(original):
                    self._saved.append((module, attr, original))
                    setattr(module, attr, self._wrapped(f"{module_name}.{attr}", original))

    def _wrapped(self, qualname: str, original):
        def call(*args, **kwargs):
            shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            self._note(f"called {qualname}({shown[:60]})")
            return original(*args, **kwargs)

        call.__wrapped__ = original
        return call
