"""Datasets: the registry of built-in names (``registry``), the verified sources they come
from (``sources``), user files (``userfiles``), array validation (``arrays``), the
NumPy-only unpickler (``safepickle``) and stratified sampling (``sampling``).

May import ``bench.core``. ``load``, ``Dataset`` and the registry's other public names are
re-exported here: callers write ``data.load("mnist")``.
"""

from bench.data.registry import (  # noqa: F401
    BUILTINS,
    MNIST_TEST_COUNTS,
    MNIST_TRAIN_COUNTS,
    Builtin,
    Dataset,
    cache_paths,
    data_dir,
    known_names,
    load,
    load_builtin,
    load_digits,
)
