"""``sklearn_model``: any scikit-learn estimator or pipeline as a benchmarked model.

The harness builds ``factory(**params)`` for each job, seeds every ``random_state`` left at
None (a pipeline's steps too) from the job's seed and every ``n_jobs`` left at None from the
thread budget, and times ``fit`` as one pass (scikit-learn exposes no per-iteration hook).

- probabilities: ``predict_proba``; an estimator without it (``LinearSVC``, ``RidgeClassifier``)
  gets the softmax of its ``decision_function``, and the record says so
  (``extra.probabilities``, ``env.runtime.probabilities``); columns follow ``classes_``.
- parameters: what the fitted estimator stores, where scikit-learn exposes it (coefficients
  and intercepts, support vectors and dual coefficients, tree splits and leaf values, PCA
  components, scaler statistics, MLP weights, the training set of a nearest-neighbour
  model), summed over a pipeline's steps; any other estimator: ``ParamCount.unknown``
  (shown "-"), never a guess.
- saved with skops (data only, never pickle); loading trusts only scikit-learn, NumPy and
  SciPy types, plus the modules the author names in ``trusted``.
- ``check_params`` builds the estimator and runs scikit-learn's own parameter validation
  (``_validate_params``) on it and on every estimator inside it, so a bad ``--set`` fails
  when the job is planned.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bench.adapters import registry
from bench.adapters.contract import Adapter, ParamCount
from bench.adapters.generic.common import (
    class_name,
    factory_path,
    keyword_defaults,
    profiles,
    resolve_factory,
)
from bench.adapters.training_log import TrainingLog
from bench.core.errors import BenchError

TRUSTED_ROOTS = ("sklearn", "numpy", "scipy")
SOFTMAX = "softmax of decision_function"


def sklearn_model(
    name: str,
    factory,
    *,
    defaults: dict | None = None,
    quick: dict | None = None,
    view: str = "flat",
    family: str = "sklearn",
    description: str = "",
    default_suite: bool = False,
    trusted: tuple[str, ...] = (),
) -> type[Adapter]:
    """Create, register and return an adapter for the estimator ``factory(**params)`` builds.

    ``factory``: an estimator class, a function returning an estimator or pipeline, or the
    import path of either (``"sklearn.ensemble:RandomForestClassifier"``,
    ``"sklearn.svm.LinearSVC"``). ``defaults``: its hyper-parameters for the full profile
    (None: the factory's keyword parameters with bool/int/float/str defaults); ``quick``:
    changes for the quick profile. ``trusted``: extra module prefixes whose types skops may
    load (the module of a custom estimator or transformer)."""
    fn = resolve_factory(factory, name)
    base = dict(defaults) if defaults is not None else keyword_defaults(fn)
    attrs = {
        "name": name,
        "family": family,
        "view": view,
        "default_suite": default_suite,
        "description": description
        or f"{factory if isinstance(factory, str) else factory_path(fn)} (scikit-learn, generic adapter)",
        "defaults": profiles(base, quick, name),
        "factory": staticmethod(fn),
        "factory_path": factory if isinstance(factory, str) else factory_path(fn),
        "trusted_modules": tuple(trusted),
    }
    return registry.register(type(class_name(name, "SklearnAdapter"), (SklearnAdapter,), attrs))


class SklearnAdapter(Adapter):
    """The generic scikit-learn adapter; ``sklearn_model`` makes its subclasses."""

    library = "scikit-learn"
    factory: ClassVar[Callable]
    factory_path: ClassVar[str] = ""
    trusted_modules: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def build(cls, params: dict[str, Any], seed: int | None = None, threads: int | None = None):
        """``factory(**params)``, with ``random_state``s left at None set to ``seed`` and
        ``n_jobs`` left at None set to ``threads``; ``ValueError`` when the factory raises or
        returns no estimator."""
        try:
            model = cls.factory(**params)
        except Exception as exc:  # noqa: BLE001 - the user's factory: one line naming it
            raise ValueError(
                f"factory {cls.factory_path}(**{params}) raised {type(exc).__name__}: {exc}"
            ) from None
        if not (hasattr(model, "fit") and hasattr(model, "get_params")):
            raise ValueError(
                f"factory {cls.factory_path} returned a {type(model).__name__}, not a scikit-learn "
                "estimator (fit, get_params)"
            )
        unset = _unset(model)
        fill = {k: seed for k in unset["random_state"]} if seed is not None else {}
        fill.update({k: threads for k in unset["n_jobs"]} if threads else {})
        if fill:
            model.set_params(**fill)
        return model

    @classmethod
    def check_params(cls, params):
        model = cls.build(params)
        for where, estimator in _estimators(model):
            if hasattr(estimator, "_validate_params"):
                try:
                    estimator._validate_params()
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"{where}{exc}") from None

    @classmethod
    def uses_seed(cls, params):
        try:
            return bool(_unset(cls.build(params))["random_state"])
        except ValueError:
            return True

    def prepare(self, **settings):
        super().prepare(**settings)
        self.model = self.build(self.params, self.prepared["seed"], self.prepared["threads"])

    def fit(self, x, y, *, x_val=None, y_val=None, log=print, target=None):
        from sklearn.exceptions import ConvergenceWarning

        self.ensure_prepared(len(x))
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.model.fit(x, y)
        seconds = time.perf_counter() - t0
        info = {"estimator": _type_path(self.model), "probabilities": self.probability_source()}
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            info["converged"] = False
        if getattr(self.model, "n_iter_", None) is not None:
            info["iterations"] = int(np.max(self.model.n_iter_))
        log(
            f"{type(self.model).__name__}: fitted in {seconds:.1f}s; probabilities: {info['probabilities']}"
        )
        # scikit-learn exposes no per-iteration hook: one timed pass covers the whole fit
        training = TrainingLog.single("fit", seconds, len(x), **info)
        training.stop_at_target(target, None, applies=False)  # nothing evaluated between passes
        return training

    def probability_source(self) -> str:
        """``"predict_proba"`` or the softmax of ``decision_function``."""
        return "predict_proba" if hasattr(self.model, "predict_proba") else SOFTMAX

    def predict_proba(self, x, batch_size=1024):
        parts = (
            [self._proba(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
            if len(x)
            else [np.zeros((0, 10))]
        )
        return np.concatenate(parts)

    def _proba(self, x) -> np.ndarray:
        if hasattr(self.model, "predict_proba"):
            scores = np.asarray(self.model.predict_proba(x), dtype=np.float64)
        else:
            scores = np.asarray(self.model.decision_function(x), dtype=np.float64)
            if scores.ndim == 1:  # a binary problem: one margin for the second class
                scores = np.stack([-scores, scores], axis=1)
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores /= scores.sum(axis=1, keepdims=True)
        out = np.zeros((len(x), 10))
        out[:, np.asarray(self.model.classes_, dtype=np.int64)] = (
            scores  # a class absent from training: 0
        )
        return out

    def to_onnx(self):
        """skl2onnx's graph of the estimator, for one that gives ``predict_proba`` over the
        ten digits in order (the graph's probabilities are then the adapter's)."""
        from bench.adapters import onnx_export

        classes = [int(c) for c in getattr(self.model, "classes_", [])]
        if classes != list(range(10)) or not hasattr(self.model, "predict_proba"):
            raise onnx_export.NotConvertible(
                f"{self.name}: exported only with predict_proba over the classes 0..9 "
                f"(it has {'predict_proba' if hasattr(self.model, 'predict_proba') else 'no predict_proba'}, "
                f"classes {classes})"
            )
        return onnx_export.sklearn(self.model, int(self.model.n_features_in_), self.name)

    def n_params(self):
        counted = count_params(self.model)
        if counted is None:
            return ParamCount.unknown(
                f"not exposed by {type(self.model).__name__} (or a step inside it)"
            )
        total, detail = counted
        return ParamCount(total, 0, detail)

    def serialized_size(self):
        import skops.io as sio

        return len(sio.dumps(self.model))

    def threads_used(self):
        params = self.model.get_params(deep=True)
        return {k: v for k, v in params.items() if k == "n_jobs" or k.endswith("__n_jobs")}

    def runtime_info(self):
        import sklearn

        return {
            "sklearn": sklearn.__version__,
            "estimator": _type_path(self.model),
            "factory": self.factory_path,
            "probabilities": self.probability_source(),
        }

    def save(self, folder):
        import skops.io as sio

        path = Path(folder) / "model.skops"
        sio.dump(self.model, path)
        return path

    @classmethod
    def load(cls, path, params, threads=None):
        import skops.io as sio

        path = Path(path)
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:  # noqa: BLE001 - a damaged zip, a foreign file: one line
            raise BenchError(
                f"{path}: not a readable skops file ({type(exc).__name__}: {exc})"
            ) from None
        allowed = TRUSTED_ROOTS + cls.trusted_modules
        refused = sorted(
            t for t in untrusted if not any(t == m or t.startswith(m + ".") for m in allowed)
        )
        if refused:
            raise BenchError(
                f"{path}: refusing to load types outside {', '.join(allowed)}: {', '.join(refused)} "
                "(a plugin author may trust a module with sklearn_model(..., trusted=[...]))"
            )
        adapter = cls(params)
        adapter.model = sio.load(path, trusted=list(untrusted))
        if not hasattr(adapter.model, "predict"):
            raise BenchError(
                f"{path}: holds a {type(adapter.model).__name__}, not a fitted estimator"
            )
        return adapter


def _type_path(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _unset(model) -> dict[str, list[str]]:
    """The deep parameter names ending in ``random_state`` / ``n_jobs`` whose value is None."""
    params = model.get_params(deep=True)
    return {
        key: [k for k, v in params.items() if v is None and (k == key or k.endswith("__" + key))]
        for key in ("random_state", "n_jobs")
    }


def _estimators(model) -> list[tuple[str, Any]]:
    """``model`` and every estimator among its deep parameters (a pipeline's steps, a
    meta-estimator's ``estimator``), each with a prefix naming where it sits."""
    out = [("", model)]
    for key, value in model.get_params(deep=True).items():
        if hasattr(value, "get_params") and hasattr(value, "fit"):
            out.append((f"{key}: ", value))
    return out


def count_params(model) -> tuple[int, str] | None:
    """(numbers stored, how they were counted) for a fitted scikit-learn estimator, or None
    when it is not one whose stored numbers are known here. Shared with already-trained skops
    files (``bench.adapters.trained_formats``), so both report the same figures."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):  # a Pipeline: the sum of its steps
        total, parts = 0, []
        for step_name, step in steps:
            if step is None or step == "passthrough":
                continue
            counted = count_params(step)
            if counted is None:
                return None
            total += counted[0]
            parts.append(f"{step_name}: {counted[1]}")
        return total, "; ".join(parts)
    if not type(model).__module__.startswith("sklearn."):
        return None  # a foreign estimator: its attributes mean what its author says
    for counter in (
        _trees,
        _forest,
        _svm,
        _mlp,
        _linear,
        _components,
        _scaler,
        _neighbours,
        _naive_bayes,
    ):
        counted = counter(model)
        if counted is not None:
            return counted
    return None


def _size(*arrays) -> int:
    return int(sum(np.asarray(a).size for a in arrays if a is not None))


def _tree_numbers(tree) -> tuple[int, int]:
    """(split numbers: feature and threshold per internal node, leaf values: one per class)."""
    t = tree.tree_
    leaves = int((t.children_left == -1).sum())
    return 2 * (t.node_count - leaves), leaves * int(np.prod(t.value.shape[1:]))


def _trees(model):
    if not hasattr(model, "tree_"):
        return None
    splits, leaves = _tree_numbers(model)
    return splits + leaves, f"1 tree: {splits} split features and thresholds + {leaves} leaf values"


def _forest(model):
    trees = getattr(model, "estimators_", None)
    if trees is None:
        return None
    flat = list(np.ravel(np.asarray(trees, dtype=object)))
    if not flat or not all(hasattr(t, "tree_") for t in flat):
        return None
    numbers = [_tree_numbers(t) for t in flat]
    splits, leaves = sum(s for s, _ in numbers), sum(v for _, v in numbers)
    detail = f"{len(flat)} trees: {splits} split features and thresholds + {leaves} leaf values"
    prior = _size(
        getattr(getattr(model, "init_", None), "class_prior_", None)
    )  # gradient boosting's start
    return splits + leaves + prior, detail + (f" + {prior} prior values" if prior else "")


def _svm(model):
    if not hasattr(model, "support_vectors_"):
        return None
    sv, dual, icpt = _size(model.support_vectors_), _size(model.dual_coef_), _size(model.intercept_)
    return sv + dual + icpt, f"support vectors {sv} + dual coefficients {dual} + intercepts {icpt}"


def _mlp(model):
    if not hasattr(model, "coefs_"):
        return None
    w, b = _size(*model.coefs_), _size(*model.intercepts_)
    return w + b, f"{w} weights + {b} biases"


def _linear(model):
    if not hasattr(model, "coef_"):
        return None
    coef, icpt = _size(model.coef_), _size(getattr(model, "intercept_", None))
    return coef + icpt, f"{coef} coefficients + {icpt} intercepts"


def _components(model):
    if not hasattr(model, "components_"):
        return None
    comp, mean = _size(model.components_), _size(getattr(model, "mean_", None))
    return comp + mean, f"{comp} component weights + {mean} means"


def _scaler(model):
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler

    if type(model) is StandardScaler:
        n = _size(model.mean_, model.scale_)
        return n, f"{n} means and scales"
    if type(model) is MinMaxScaler:
        n = _size(model.min_, model.scale_)
        return n, f"{n} offsets and scales"
    if type(model) is MaxAbsScaler:
        n = _size(model.scale_)
        return n, f"{n} scales"
    return None


def _neighbours(model):
    if not hasattr(model, "_fit_X") or not hasattr(model, "n_neighbors"):
        return None
    n = _size(model._fit_X, getattr(model, "_y", None))
    return n, f"{n} stored training pixels and labels"


def _naive_bayes(model):
    if not (hasattr(model, "theta_") and hasattr(model, "var_")):
        return None
    n = _size(model.theta_, model.var_, model.class_prior_)
    return n, f"{n} class means, variances and priors"
