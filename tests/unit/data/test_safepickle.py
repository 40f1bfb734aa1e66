import os
import pickle

import numpy as np
import pytest

from bench.core.errors import DataError
from bench.data.safepickle import loads_numpy_pickle


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/mnist-bench-pwned",))


def test_numpy_arrays_round_trip():
    arrays = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2])),)
    out = loads_numpy_pickle(pickle.dumps(arrays, protocol=4))
    np.testing.assert_array_equal(out[0][0], arrays[0][0])
    assert out[0][0].dtype == np.float32


def test_refuses_a_pickle_that_calls_anything_else(tmp_path):
    payload = pickle.dumps(Evil(), protocol=2)
    with pytest.raises(DataError, match="refused to unpickle.*(posix|os).system"):
        loads_numpy_pickle(payload)
    assert not os.path.exists("/tmp/mnist-bench-pwned")


@pytest.mark.parametrize("target", [eval, getattr, __import__])
def test_refuses_builtins(target):
    with pytest.raises(DataError, match="refused"):
        loads_numpy_pickle(pickle.dumps(target, protocol=2))


def test_truncated_pickle_is_a_data_error():
    payload = pickle.dumps(np.arange(1000), protocol=2)
    with pytest.raises(DataError, match="corrupt pickle"):
        loads_numpy_pickle(payload[:50])
