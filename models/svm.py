"""RBF support-vector machine on a PCA projection (scikit-learn).

PCA to ``n_components`` dimensions (fitted on the training images only), then an RBF
``SVC`` (one-vs-one, libsvm). Probabilities: the SVC's one-vs-rest decision values are
turned into probabilities by temperature scaling fitted on the validation split
(``CalibratedClassifierCV(FrozenEstimator(svc), method="temperature")``), which keeps the
SVC's ranking of classes; scikit-learn deprecated ``SVC(probability=True)`` in 1.9.
"""

from __future__ import annotations

from models import register
from models.base import Adapter, ParamCount, Stopwatch, TrainingLog, pickled_size


@register
class SVMAdapter(Adapter):
    name = "svm"
    family = "kernel"
    view = "flat"
    description = "PCA projection + RBF SVC, temperature-scaled probabilities (scikit-learn)"
    defaults = {
        "full": {"n_components": 50, "C": 10.0, "gamma": 0.04},
        "quick": {"n_components": 50, "C": 10.0, "gamma": 0.04},
    }

    def prepare(self, **settings):
        super().prepare(**settings)
        from sklearn.calibration import CalibratedClassifierCV  # noqa: F401 - imported off the clock
        from sklearn.decomposition import PCA
        from sklearn.svm import SVC

        seed = self.prepared["seed"]
        self.pca = PCA(self.params["n_components"], random_state=seed)
        self.svc = SVC(C=self.params["C"], gamma=self.params["gamma"], kernel="rbf", random_state=seed)

    def fit(self, x, y, *, x_val=None, y_val=None, log=print):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator

        if x_val is None or len(x_val) == 0:
            raise ValueError("svm needs a validation split to calibrate its probabilities")
        self.ensure_prepared(len(x))
        # three stages, none of them a pass over the data that could be counted
        training = TrainingLog("stage")
        watch = Stopwatch()
        with watch:
            projected = self.pca.fit(x).transform(x)
        training.add(watch.take(), stage="PCA")
        log(f"PCA: {self.pca.n_components_} components keep {self.pca.explained_variance_ratio_.sum():.1%} of variance")
        with watch:
            self.svc.fit(projected, y)
        training.add(watch.take(), stage="SVC")
        log(f"SVC: {self.svc.support_vectors_.shape[0]} support vectors")
        with watch:
            self.calibrated = CalibratedClassifierCV(FrozenEstimator(self.svc), method="temperature")
            self.calibrated.fit(self.pca.transform(x_val), y_val)
        training.add(watch.take(), stage="temperature scaling (validation split)")
        return training

    def predict_proba(self, x, batch_size=1024):
        return self.calibrated.predict_proba(self.pca.transform(x))

    def n_params(self):
        pca = self.pca.components_.size + self.pca.mean_.size
        sv = self.svc.support_vectors_.size
        dual = self.svc.dual_coef_.size
        intercepts = self.svc.intercept_.size
        total = pca + sv + dual + intercepts + 1
        return ParamCount(total, 0, f"PCA {pca} + support vectors {sv} + dual coefficients {dual} "
                                    f"+ intercepts {intercepts} + temperature 1")

    def serialized_size(self):
        return pickled_size((self.pca, self.calibrated))
