"""THE shared preprocessing (``preprocess``): pixel scaling, the flat and image views, the
training-set augmentation, and a profile's train/validation split of a dataset.

May import ``bench.core`` and ``bench.data``.
"""
