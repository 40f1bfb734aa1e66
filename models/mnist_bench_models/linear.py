"""Multinomial logistic regression (scikit-learn, L-BFGS) on the flat view."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.adapters.contract import Adapter, ParamCount, pickled_size, require
from bench.adapters.registry import register
from bench.adapters.training_log import TrainingLog


@register
class LogisticRegressionAdapter(Adapter):
    name = "logreg"
    library = "scikit-learn"
    default_suite = True
    family = "linear"
    view = "flat"
    description = "multinomial logistic regression, L-BFGS (scikit-learn)"
    defaults = {
        "full": {"C": 0.3, "max_iter": 1000, "tol": 1e-4},
        "quick": {"C": 0.3, "max_iter": 200, "tol": 1e-4},
    }

    def prepare(self, **settings):
        super().prepare(**settings)
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(
            C=self.params["C"],
            max_iter=self.params["max_iter"],
            tol=self.params["tol"],
            random_state=self.prepared["seed"],
        )

    def fit(self, x, y, *, x_val=None, y_val=None, log=print, target=None):
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        self.ensure_prepared(len(x))
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.model.fit(x, y)
        seconds = time.perf_counter() - t0
        iters = int(np.max(self.model.n_iter_))
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        log(f"L-BFGS: {iters} iterations, {'converged' if converged else 'stopped at max_iter'}")
        # scikit-learn's solver exposes no per-iteration hook: one timed pass covers the
        # solve; each L-BFGS iteration evaluates the loss and gradient on every image
        training = TrainingLog.single(
            "L-BFGS solve", seconds, len(x) * iters, iterations=iters, converged=converged
        )
        training.stop_at_target(
            target, None, applies=False
        )  # no per-iteration evaluation to stop on
        return training

    def predict_proba(self, x, batch_size=1024):
        return self.model.predict_proba(x)

    def to_onnx(self):
        from bench.adapters import onnx_export

        return onnx_export.sklearn(self.model, self.model.coef_.shape[1], self.name)

    def n_params(self):
        coef, intercept = self.model.coef_.size, self.model.intercept_.size
        return ParamCount(coef + intercept, 0, f"{coef} weights + {intercept} intercepts")

    def flops_per_image(self):
        return float(2 * self.model.coef_.size)

    # train_flops_per_image stays None (no training GFLOP/s): each L-BFGS iteration makes one or
    # more loss-and-gradient evaluations (2 x forward each, the line search adds some) and
    # scikit-learn does not say how many it made

    def serialized_size(self):
        return pickled_size(self.model)

    @classmethod
    def static_param_count(cls, params):
        return 784 * 10 + 10

    def save(self, folder):
        from . import skops_io

        return skops_io.dump(self.model, Path(folder) / "model.skops")

    @classmethod
    def load(cls, path, params, threads=None):
        from sklearn.linear_model import LogisticRegression

        from . import skops_io

        adapter = cls(params)
        adapter.model = skops_io.load(
            Path(path), expected=()
        )  # skops trusts LogisticRegression itself
        skops_io.require_type(path, adapter.model, LogisticRegression)
        return adapter

    @classmethod
    def check_params(cls, params):
        def positive(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0

        require(params, "C", positive, "a number > 0 (the inverse of the regularisation strength)")
        require(
            params,
            "max_iter",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
            "an integer >= 1",
        )
        require(params, "tol", positive, "a number > 0")

    @classmethod
    def uses_seed(cls, params):
        return False  # a strictly convex problem, solved by deterministic L-BFGS
