"""RBF support-vector machine on a PCA projection (scikit-learn).

PCA to ``n_components`` dimensions (fitted on the training images only), then an RBF
``SVC`` (one-vs-one, libsvm). Probabilities: the SVC's one-vs-rest decision values are
turned into probabilities by temperature scaling fitted on the validation split
(``CalibratedClassifierCV(FrozenEstimator(svc), method="temperature")``), which keeps the
SVC's ranking of classes; scikit-learn deprecated ``SVC(probability=True)`` in 1.9.
"""

from __future__ import annotations

from models import register
from models.base import Adapter, ParamCount, pickled_size


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

    def fit(self, x, y, *, x_val=None, y_val=None, seed=0, device="cpu", threads=None, deterministic=False,
            log=print):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.decomposition import PCA
        from sklearn.frozen import FrozenEstimator
        from sklearn.svm import SVC

        if x_val is None or len(x_val) == 0:
            raise ValueError("svm needs a validation split to calibrate its probabilities")
        self.pca = PCA(self.params["n_components"], random_state=seed).fit(x)
        log(f"PCA: {self.pca.n_components_} components keep {self.pca.explained_variance_ratio_.sum():.1%} of variance")
        gamma = self.params["gamma"]
        self.svc = SVC(C=self.params["C"], gamma=gamma, kernel="rbf", random_state=seed)
        self.svc.fit(self.pca.transform(x), y)
        log(f"SVC: {self.svc.support_vectors_.shape[0]} support vectors")
        self.calibrated = CalibratedClassifierCV(FrozenEstimator(self.svc), method="temperature")
        self.calibrated.fit(self.pca.transform(x_val), y_val)
        return []

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
