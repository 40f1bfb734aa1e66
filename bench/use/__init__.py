"""Using saved models: artifacts (save, verify, load), ``predict`` and ``evaluate``, and
turning ordinary images into MNIST-style inputs (``mnistify``).

May import every layer up to ``bench.report``; never ``bench.run``.
"""
