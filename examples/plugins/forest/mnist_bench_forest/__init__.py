"""A random forest on the flat 784-pixel view, benchmarked by mnist-bench.

One call registers it: the forest's hyper-parameters are RandomForestClassifier's own
(``--set forest.n_estimators=300``), its seed comes from the job, its trees are counted as
split features and thresholds plus leaf values, and it is saved with skops.
"""

from bench.adapters import sklearn_model

Forest = sklearn_model(
    "forest",
    "sklearn.ensemble:RandomForestClassifier",
    defaults={
        "n_estimators": 200,
        "max_features": "sqrt",
        "min_samples_leaf": 1,
        "criterion": "gini",
    },
    quick={"n_estimators": 50},
    family="trees",
    description="random forest, 200 trees (scikit-learn, mnist-bench-forest plugin)",
)
