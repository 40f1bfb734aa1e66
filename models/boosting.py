"""Gradient-boosted trees (XGBoost, ``hist``) on the flat view; CPU or CUDA."""

from __future__ import annotations

import json

import numpy as np

from models import register
from models.base import Adapter, ParamCount


@register
class XGBoostAdapter(Adapter):
    name = "xgboost"
    family = "trees"
    view = "flat"
    devices = ("cpu", "gpu")
    description = "gradient-boosted trees, hist method (XGBoost)"
    defaults = {
        "full": {"n_estimators": 200, "max_depth": 6, "learning_rate": 0.3, "max_bin": 64,
                 "subsample": 1.0, "colsample_bytree": 1.0},
        "quick": {"n_estimators": 60, "max_depth": 6, "learning_rate": 0.3, "max_bin": 64,
                  "subsample": 1.0, "colsample_bytree": 1.0},
    }

    def fit(self, x, y, *, x_val=None, y_val=None, seed=0, device="cpu", threads=None, deterministic=False,
            log=print):
        import xgboost as xgb

        p = self.params
        if device == "gpu" and not xgb.build_info().get("USE_CUDA"):
            raise RuntimeError("this XGBoost build has no CUDA support; --device gpu needs one that has")
        self.model = xgb.XGBClassifier(
            n_estimators=p["n_estimators"], max_depth=p["max_depth"], learning_rate=p["learning_rate"],
            max_bin=p["max_bin"], subsample=p["subsample"], colsample_bytree=p["colsample_bytree"],
            tree_method="hist", device="cuda" if device == "gpu" else "cpu", n_jobs=threads,
            random_state=seed, eval_metric=["mlogloss", "merror"],
            callbacks=[_progress(xgb, p["n_estimators"], log)],
        )
        eval_set = [(x_val, y_val)] if x_val is not None and len(x_val) else None
        self.model.fit(x, y, eval_set=eval_set, verbose=False)
        self.booster = self.model.get_booster()
        history = []
        if eval_set:
            res = self.model.evals_result()["validation_0"]
            for i, (loss, err) in enumerate(zip(res["mlogloss"], res["merror"]), start=1):
                history.append({"epoch": i, "val_loss": loss, "val_accuracy": 1.0 - err})
            log(f"{len(history)} rounds, validation accuracy {history[-1]['val_accuracy']:.4f}")
        return history

    def predict_proba(self, x, batch_size=1024):
        # inplace_predict skips the DMatrix copy: the fastest honest path, also on CUDA
        out = [self.booster.inplace_predict(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.asarray(np.concatenate(out), dtype=np.float64)

    def n_params(self):
        trees = json.loads(self.booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
        leaves = splits = 0
        for tree in trees:
            left = np.asarray(tree["left_children"])
            n_leaves = int((left == -1).sum())
            leaves += n_leaves
            splits += len(left) - n_leaves
        return ParamCount(leaves + splits, 0, f"{len(trees)} trees: {splits} split thresholds + {leaves} leaf values")

    def serialized_size(self):
        return len(self.booster.save_raw("ubj"))

    def threads_used(self):
        config = json.loads(self.booster.save_config())
        return {"xgboost_nthread": int(config["learner"]["generic_param"]["nthread"])}

    def runtime_info(self):
        import xgboost as xgb

        info = xgb.build_info()
        return {"xgboost": xgb.__version__, "use_cuda": bool(info.get("USE_CUDA")),
                "cuda_version": info.get("CUDA_VERSION"),
                "device": self.model.get_params().get("device")}


def _progress(xgb, rounds: int, log, every: int = 25):
    """An XGBoost callback that logs validation accuracy every ``every`` rounds."""

    class Progress(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            done = epoch + 1
            if done % every == 0 or done == rounds:
                err = evals_log.get("validation_0", {}).get("merror", [None])[-1]
                log(f"round {done}/{rounds}" + (f" val_accuracy {1 - err:.4f}" if err is not None else ""))
            return False

    return Progress()
