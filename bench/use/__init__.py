"""Using saved models: artifacts (save, verify, load), ``predict`` and ``evaluate``, and
turning ordinary images into MNIST-style inputs (``image_to_mnist``).

May import every layer up to ``bench.publish`` (``predict`` draws its gallery with
``bench.publish.plots``; the model card takes its numbers from ``bench.analysis``); never
``bench.run``.
"""
