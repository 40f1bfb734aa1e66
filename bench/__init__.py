"""mnist-bench: train and measure MNIST-style classifiers on the same footing.

Importing ``bench`` (or running ``python -m bench --help``) imports no ML framework;
TensorFlow, XGBoost and scikit-learn are imported inside the model adapters only.
"""

__version__ = "0.1.0"

__all__ = ["RunConfig", "run_suite"]


def run_suite(config) -> list:
    """Train and measure what ``config`` (a ``RunConfig``) names, as ``python -m bench run``
    does: every option checked first (``BenchError``), one subprocess per job, one record
    per job under ``config.out / "runs"``, the leaderboard rebuilt. Returns the jobs'
    outcomes (``status``, ``record``, ``path`` of each)."""
    from bench.run.entry import execute

    return execute(config, resumable=None)


def __getattr__(name: str):
    # ``bench.RunConfig`` without importing the run layer on every ``import bench``
    if name == "RunConfig":
        from bench.run.entry import RunConfig

        return RunConfig
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
