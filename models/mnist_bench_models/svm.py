"""RBF support-vector machine on a PCA projection (scikit-learn).

PCA to ``n_components`` dimensions (fitted on the training images only), then an RBF
``SVC`` (one-vs-one, libsvm). Probabilities: the SVC's one-vs-rest decision values are
turned into probabilities by temperature scaling fitted on the validation split
(``CalibratedClassifierCV(FrozenEstimator(svc), method="temperature")``), which keeps the
SVC's ranking of classes; scikit-learn deprecated ``SVC(probability=True)`` in 1.9.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.adapters.contract import Adapter, ParamCount, pickled_size, require
from bench.adapters.registry import register
from bench.adapters.training_log import Stopwatch, TrainingLog


@register
class SVMAdapter(Adapter):
    name = "svm"
    library = "scikit-learn"
    default_suite = True
    family = "kernel"
    view = "flat"
    description = "PCA projection + RBF SVC, temperature-scaled probabilities (scikit-learn)"
    defaults = {
        "full": {"n_components": 50, "C": 10.0, "gamma": 0.04},
        "quick": {"n_components": 50, "C": 10.0, "gamma": 0.04},
    }

    def prepare(self, **settings):
        super().prepare(**settings)
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.decomposition import PCA
        from sklearn.frozen import FrozenEstimator
        from sklearn.svm import SVC

        seed = self.prepared["seed"]
        self.pca = PCA(self.params["n_components"], random_state=seed)
        self.svc = SVC(
            C=self.params["C"], gamma=self.params["gamma"], kernel="rbf", random_state=seed
        )
        self.calibrated = CalibratedClassifierCV(FrozenEstimator(self.svc), method="temperature")

    def fit(self, x, y, *, x_val=None, y_val=None, log=print, target=None):
        if x_val is None or len(x_val) == 0:
            raise ValueError("svm needs a validation split to calibrate its probabilities")
        self.ensure_prepared(len(x))
        # three stages, none of them a pass over the data that could be counted
        training = TrainingLog("stage")
        watch = Stopwatch()
        with watch:
            self.pca.fit(x)
            # randomized PCA leaves components_ a strided view; a loaded model gets a contiguous
            # copy, and BLAS sums those differently: make both the same so that a saved and
            # reloaded SVM predicts bit-identically
            self.pca.components_ = np.ascontiguousarray(self.pca.components_)
            projected = self.pca.transform(x)
        training.add(watch.take(), stage="PCA")
        log(
            f"PCA: {self.pca.n_components_} components keep {self.pca.explained_variance_ratio_.sum():.1%} of variance"
        )
        with watch:
            self.svc.fit(projected, y)
        training.add(watch.take(), stage="SVC")
        log(f"SVC: {self.svc.support_vectors_.shape[0]} support vectors")
        with watch:  # FrozenEstimator: calibration fits the temperature only, not the SVC again
            self.calibrated.fit(self.pca.transform(x_val), y_val)
        training.add(watch.take(), stage="temperature scaling (validation split)")
        training.stop_at_target(target, None, applies=False)  # one solve: nothing to stop between
        return training

    def predict_proba(self, x, batch_size=1024):
        return self.calibrated.predict_proba(self.pca.transform(x))

    def to_onnx(self):
        from sklearn.pipeline import make_pipeline

        from bench.adapters import onnx_export

        pipeline = make_pipeline(self.pca, self.calibrated)
        return onnx_export.sklearn(pipeline, self.pca.n_features_in_, self.name)

    def n_params(self):
        pca = self.pca.components_.size + self.pca.mean_.size
        sv = self.svc.support_vectors_.size
        dual = self.svc.dual_coef_.size
        intercepts = self.svc.intercept_.size
        total = pca + sv + dual + intercepts + 1
        return ParamCount(
            total,
            0,
            f"PCA {pca} + support vectors {sv} + dual coefficients {dual} "
            f"+ intercepts {intercepts} + temperature 1",
        )

    @classmethod
    def check_params(cls, params):
        def positive(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0

        require(
            params,
            "n_components",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 784,
            "an integer from 1 to 784 (pixels per image)",
        )
        require(params, "C", positive, "a number > 0")
        require(params, "gamma", positive, "a number > 0 (the RBF kernel's width)")

    TRUSTED = (
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._TemperatureScaling",
    )

    def save(self, folder):
        from . import skops_io

        return skops_io.dump(
            {"pca": self.pca, "calibrated": self.calibrated}, Path(folder) / "model.skops"
        )

    @classmethod
    def load(cls, path, params, threads=None):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.decomposition import PCA

        from . import skops_io

        parts = skops_io.load(Path(path), expected=cls.TRUSTED)
        skops_io.require_type(path, parts, dict)
        skops_io.require_type(path, parts.get("pca"), PCA)
        skops_io.require_type(path, parts.get("calibrated"), CalibratedClassifierCV)
        adapter = cls(params)
        adapter.pca, adapter.calibrated = parts["pca"], parts["calibrated"]
        adapter.svc = adapter.calibrated.estimator.estimator  # the SVC inside FrozenEstimator
        return adapter

    def serialized_size(self):
        return pickled_size((self.pca, self.calibrated))
