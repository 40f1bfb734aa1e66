"""``check-adapter`` (``bench.adapters.conformance``): every built-in family keeps the contract,
and each planted defect (``tests/conformance_faults.py``) is reported in one line, by its rule
alone."""

import importlib

import numpy as np
import pytest

from bench.adapters import conformance, registry
from bench.adapters.contract import Adapter, ParamCount
from bench.adapters.training_log import TrainingLog

FAULTS = {"BENCH_EXTRA_MODELS": "tests.conformance_faults"}
BUILTINS = ("logreg", "svm", "xgboost", "mlp", "cnn-small", "cnn-deep", "cnn-fast")


@pytest.fixture(scope="module")
def faults():
    """The fault adapters, registered in this process after the built-ins; removed afterwards.
    Each module that uses it registers them again (the module registers at import, so a second
    use reloads it)."""
    registry.names()
    from tests import conformance_faults

    if not any(c.__module__ == conformance_faults.__name__ for c in registry.REGISTRY.values()):
        conformance_faults = importlib.reload(conformance_faults)

    yield conformance_faults
    for name in [
        n for n, c in registry.REGISTRY.items() if c.__module__ == conformance_faults.__name__
    ]:
        del registry.REGISTRY[name]


def _failed(findings) -> dict:
    assert [f.rule for f in findings] == list(conformance.RULES)
    for f in findings:
        assert "\n" not in f.line() and f.message, f
    return {f.rule: f.message for f in findings if not f.ok}


def test_a_sound_adapter_passes(faults):
    assert _failed(conformance.check_adapter("conf-ok")) == {}


@pytest.mark.parametrize(
    "name, rule, fragment",
    [
        ("conf-rowsum", "probabilities", "300 of 300 rows do not sum to 1 (sums 0.5 to 0.5"),
        ("conf-shape", "probabilities", "shape (300, 9), expected (300, 10)"),
        ("conf-nopasses", "clock", "a TrainingLog with no passes"),
        ("conf-reload", "save/load", "of 300 predictions differ after load"),
        ("conf-peek", "test set", "called bench.data.load('digits')"),
        ("conf-peekfile", "test set", "digits.csv.gz"),  # past every loader: the audit hook's catch
    ],
)
def test_each_planted_defect_is_one_line_of_its_own_rule(faults, name, rule, fragment):
    failed = _failed(conformance.check_adapter(name))
    assert list(failed) == [rule], failed
    assert fragment in failed[rule]


def test_reload_mismatch_counts_the_predictions_that_changed(faults):
    """The count is the checker's own: recomputed here from the class means, reversed."""
    cls = faults.ReloadAdapter
    x, y, _, _ = conformance.training_slice("flat", 300, 100)
    x_test = conformance.test_slice("flat", 300)
    means = np.stack([x[y == c].mean(axis=0) for c in range(10)])
    before = ((x_test[:, None] - means[None]) ** 2).mean(axis=2).argmin(axis=1)
    after = ((x_test[:, None] - means[::-1][None]) ** 2).mean(axis=2).argmin(axis=1)
    failed = _failed(conformance.check_adapter(cls))
    assert failed["save/load"].startswith(
        f"{int((before != after).sum())} of 300 predictions differ"
    )


def test_a_raising_fit_fails_the_clock_and_skips_what_needs_a_model(faults):
    class Raising(faults.CentroidAdapter):
        name = "conf-raise"

        def fit(self, x, y, **kw):
            raise RuntimeError("injected\nfailure")

    findings = {f.rule: f for f in conformance.check_adapter(Raising)}
    assert not findings["clock"].ok
    assert findings["clock"].message == "fit raised RuntimeError: injected failure"
    for rule in ("probabilities", "determinism", "save/load"):
        assert findings[rule].skipped and findings[rule].ok
    assert findings["check_params"].ok and findings["test set"].ok and findings["contract"].ok


def test_check_params_that_accepts_anything_and_a_class_missing_a_method(faults):
    class Lax(faults.CentroidAdapter):
        name = "conf-lax"

        @classmethod
        def check_params(cls, params):
            return None

    failed = _failed(conformance.check_adapter(Lax))
    assert list(failed) == ["check_params"]
    assert failed["check_params"].startswith(
        "check_params accepted every bad value we tried (temperature=-0.05"
    )


def test_a_class_missing_a_method_fails_the_contract_and_cannot_be_built():
    class NoPredict(Adapter):  # never registered: the checker takes classes too
        name, family, view = "conf-nopredict", "test", "flat"
        defaults = {"full": {}, "quick": {}}

        def fit(self, x, y, **kw):
            return TrainingLog.single("pass", 0.0, len(x))

        def n_params(self):
            return ParamCount(0, 0, "")

        def serialized_size(self):
            return 0

    findings = {f.rule: f for f in conformance.check_adapter(NoPredict)}
    assert findings["contract"].message == "method predict_proba() not implemented"
    assert findings["clock"].message.startswith(
        "constructing the adapter raised TypeError: Can't instantiate"
    )
    assert (
        findings["check_params"].skipped
        and findings["check_params"].message == "no hyper-parameters declared"
    )


def test_an_already_trained_model_is_loaded_not_fitted(faults, tmp_path):
    x, y, _, _ = conformance.training_slice("flat", 300, 100)
    path = tmp_path / "means.npy"
    np.save(path, np.stack([x[y == c].mean(axis=0) for c in range(10)]))

    class Trained(faults.CentroidAdapter):
        name, trains, origin = "conf-trained", False, {"kind": "file", "path": str(path)}

        def fit(self, x, y, **kw):
            raise AssertionError("an already-trained model is never fitted")

    findings = {f.rule: f for f in conformance.check_adapter(Trained)}
    assert all(f.ok for f in findings.values()), findings
    assert [r for r, f in findings.items() if f.skipped] == ["clock", "determinism", "test set"]
    assert findings["save/load"].message.endswith("the same predictions on all 300 images")
