"""Generic adapters: a model of the user's own, benchmarked without writing an adapter class.

- ``sklearn_model(name, factory, ...)``: any scikit-learn estimator or pipeline
  (``bench.adapters.generic.sklearn``);
- ``keras_model(name, factory, ...)``: any ``keras.Model`` (``bench.adapters.generic.keras``).

Each creates an ``Adapter`` subclass, registers it (``registry.register``) and returns it, so
one call in a plugin file (``--plugin``) or in a package's entry-point module is the whole
plugin. ``factory`` is a callable or its import path (``"module:attr"`` or
``"package.module.Class"``); its keyword parameters become the model's hyper-parameters,
settable with ``--set NAME.KEY=VALUE``. Importing this package loads no framework.
"""

from bench.adapters.generic.keras import keras_model
from bench.adapters.generic.sklearn import sklearn_model

__all__ = ["keras_model", "sklearn_model"]
