"""The Keras adapters' input pipeline and learning-rate schedule, now in
``bench.adapters.keras_tools`` (shared with the generic ``keras_model``); re-exported here
for code that imported them from this module."""

from bench.adapters.keras_tools import batches, learning_rate_schedule  # noqa: F401
