"""Adapters with one planted defect each, for ``check-adapter`` (``bench.adapters.conformance``);
loaded through ``BENCH_EXTRA_MODELS=tests.conformance_faults``.

``conf-ok`` is a real classifier that keeps every rule: a softmax over negative squared
distances to the class means of the training images, saved as a NumPy file. Each fault
inherits it and breaks one rule: ``conf-rowsum`` (rows sum to 0.5), ``conf-shape`` (9
columns), ``conf-nopasses`` (a TrainingLog without passes), ``conf-reload`` (saves the class
means in the wrong order), ``conf-peek`` (its fit loads the dataset through ``bench.data`` to
read the test labels), ``conf-peekfile`` (its fit reads scikit-learn's digits file itself,
past every loader).
"""

import time
from pathlib import Path

import numpy as np

from bench.adapters.contract import Adapter, ParamCount, require
from bench.adapters.registry import register
from bench.adapters.training_log import TrainingLog


@register
class CentroidAdapter(Adapter):
    name = "conf-ok"
    family = "test"
    view = "flat"
    defaults = {"full": {"temperature": 0.05}, "quick": {"temperature": 0.05}}

    def fit(self, x, y, *, x_val=None, y_val=None, log=print, target=None):
        self.ensure_prepared(len(x))
        t0 = time.perf_counter()
        self.means = np.stack([x[y == c].mean(axis=0) for c in range(10)])
        training = TrainingLog("pass", images_processed=len(x))
        training.add(time.perf_counter() - t0)
        return training

    def predict_proba(self, x, batch_size=1024):
        d = ((x[:, None, :] - self.means[None]) ** 2).mean(axis=2)
        z = -d / self.params["temperature"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def n_params(self):
        return ParamCount(self.means.size, 0, "class means")

    def serialized_size(self):
        return self.means.nbytes

    def save(self, folder):
        path = Path(folder) / "means.npy"
        np.save(path, self.means, allow_pickle=False)
        return path

    @classmethod
    def load(cls, path, params, threads=None):
        adapter = cls(params)
        adapter.means = np.load(path, allow_pickle=False)
        return adapter

    @classmethod
    def check_params(cls, params):
        require(params, "temperature", lambda v: isinstance(v, float) and v > 0, "a number > 0")

    @classmethod
    def uses_seed(cls, params):
        return False


@register
class RowSumAdapter(CentroidAdapter):
    name = "conf-rowsum"

    def predict_proba(self, x, batch_size=1024):
        return super().predict_proba(x) * 0.5


@register
class ShapeAdapter(CentroidAdapter):
    name = "conf-shape"

    def predict_proba(self, x, batch_size=1024):
        p = super().predict_proba(x)[:, :9]
        return p / p.sum(axis=1, keepdims=True)


@register
class NoPassesAdapter(CentroidAdapter):
    name = "conf-nopasses"

    def fit(self, x, y, **kw):
        super().fit(x, y, **kw)
        return TrainingLog("pass", images_processed=len(x))


@register
class ReloadAdapter(CentroidAdapter):
    name = "conf-reload"

    def save(self, folder):
        path = Path(folder) / "means.npy"
        np.save(path, self.means[::-1], allow_pickle=False)  # classes in the wrong order
        return path


@register
class PeekAdapter(CentroidAdapter):
    name = "conf-peek"

    def fit(self, x, y, **kw):
        from bench import data

        self.test_prior = np.bincount(data.load("digits").splits.y_test, minlength=10)
        return super().fit(x, y, **kw)


@register
class PeekFileAdapter(CentroidAdapter):
    name = "conf-peekfile"

    def fit(self, x, y, **kw):
        import gzip
        from importlib import resources

        digits = resources.files("sklearn.datasets.data").joinpath("digits.csv.gz")
        with gzip.open(str(digits)) as fh:  # past every loader: only the audit hook sees this
            self.raw_rows = len(fh.read().splitlines())
        return super().fit(x, y, **kw)
