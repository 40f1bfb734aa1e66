"""mnist-bench: train and measure MNIST-style classifiers on the same footing.

Importing ``bench`` (or running ``python -m bench --help``) imports no ML framework;
TensorFlow, XGBoost and scikit-learn are imported inside the model adapters only.
"""

__version__ = "0.1.0"
