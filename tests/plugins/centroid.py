"""A one-file plugin for the tests (``--plugin tests/plugins/centroid.py``): nearest class
mean with a softmax over negative squared distances. NumPy only, so it trains in
milliseconds; saved as ``.npz`` (data, no pickle) so predict, cold start and cards work."""

import time
from pathlib import Path

import numpy as np

from bench.adapters import Adapter, ParamCount, TrainingLog, register


@register
class CentroidAdapter(Adapter):
    name = "centroid"
    family = "prototype"
    view = "flat"
    library = "numpy"
    description = "nearest class mean, softmax over -distance / temperature (test plugin)"
    defaults = {"full": {"temperature": 10.0}, "quick": {"temperature": 10.0}}

    def fit(self, x, y, *, x_val=None, y_val=None, log=print, target=None):
        t0 = time.perf_counter()
        self.means = np.stack([x[y == k].mean(0) for k in range(10)]).astype(np.float32)
        return TrainingLog.single("fit", time.perf_counter() - t0, len(y))

    def predict_proba(self, x, batch_size=1024):
        d = (x * x).sum(1)[:, None] - 2 * x @ self.means.T + (self.means * self.means).sum(1)[None]
        z = -d / self.params["temperature"]
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def n_params(self):
        return ParamCount(int(self.means.size), 0, "10 class means")

    def serialized_size(self):
        return int(self.means.nbytes)

    @classmethod
    def check_params(cls, params):
        if not params.get("temperature", 1.0) > 0:
            raise ValueError(f"temperature={params['temperature']!r}: a number > 0")

    @classmethod
    def uses_seed(cls, params):
        return False

    def save(self, folder) -> Path:
        path = Path(folder) / "centroid.npz"
        np.savez(path, means=self.means)
        return path

    @classmethod
    def load(cls, path, params, threads=None):
        adapter = cls(params)
        with np.load(path, allow_pickle=False) as f:
            adapter.means = f["means"]
        return adapter
