"""A test plugin (``BENCH_EXTRA_MODELS=tests.recipe_adapters``): logistic regression with
its own recipe for the embedded digits set, so the per-dataset defaults run end to end on
data that trains in seconds. The real recipes (Fashion-MNIST) are in ``models/``."""

from bench.adapters.registry import register
from mnist_bench_models.linear import LogisticRegressionAdapter


@register
class RecipeLogRegAdapter(LogisticRegressionAdapter):
    name = "logreg-recipe"
    tags = ("test",)
    description = "logistic regression with a digits recipe (tests only)"
    dataset_defaults = {"digits": {"quick": {"C": 0.05, "max_iter": 150}}}
