"""Measurement: what a job's worker computes from a trained adapter.

Owns the classification metrics (``metrics``), the inference timing protocol
(``timing``), the training clock and time to accuracy (``clock``) and the profiles that
fix a split rule and a timing protocol per name (``profiles``). May import ``bench.core``,
``bench.data``, ``bench.prep`` and ``bench.adapters``; nothing here imports a framework.

The names below are re-exported so that callers write ``measure.classification_metrics``.
"""

from bench.measure.clock import (  # noqa: F401
    TTA_TARGETS,
    accuracy_curve,
    first_reaching,
    record_curve,
    start_of,
    time_to_accuracy,
    training_figures,
)
from bench.measure.metrics import (  # noqa: F401
    N_CLASSES,
    NO_PREDICTION,
    classification_metrics,
    confusion_matrix,
    correct_mask,
    predictions,
    test_outcomes,
    worst_mistakes,
    writer_metrics,
)
from bench.measure.timing import (  # noqa: F401
    InferenceProtocol,
    TimingRule,
    measure_inference,
    percentile,
    summarise,
    time_calls,
)
