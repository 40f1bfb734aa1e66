"""Per-dataset defaults (issue 23): an adapter's ``dataset_defaults`` apply on that dataset
only, under the profiles they name; ``--set`` and ``--grid`` go on top; the job, its record
and the row label say which defaults applied; a recipe naming an undeclared
hyper-parameter is refused."""

from typing import ClassVar

import pytest

from bench.adapters import registry
from bench.core.errors import BenchError
from bench.run import plan as planner
from mnist_bench_models.cnn import DeepCNNAdapter, SmallCNNAdapter
from mnist_bench_models.mlp import MLPAdapter
from tests.conftest import run_cli

RECIPE = {"BENCH_EXTRA_MODELS": "tests.recipe_adapters"}


def _plan(models, datasets, profile="full", overrides=(), grid=None):
    return planner.plan(models, datasets, profile, "cpu", [0], list(overrides), False, grid=grid)


FASHION = {  # the issue-23 recipes as chosen on Fashion-MNIST's validation split (README)
    MLPAdapter: {"epochs": 28},
    SmallCNNAdapter: {"epochs": 10},
    DeepCNNAdapter: {"epochs": 10, "shift": 0},
}


def test_fashion_recipes_apply_on_fashion_mnist_only():
    jobs = _plan(["mlp", "cnn-small", "cnn-deep", "logreg"], ["mnist", "fashion-mnist"])
    by = {(j.model, j.dataset): j for j in jobs}
    for cls, recipe in FASHION.items():
        assert (
            by[cls.name, "mnist"].params == cls.defaults["full"]
            and by[cls.name, "mnist"].recipe is None
        )
        fashion = by[cls.name, "fashion-mnist"]
        assert fashion.recipe == "fashion-mnist"
        assert fashion.params == {**cls.defaults["full"], **recipe}
        assert any(
            cls.defaults["full"][k] != v for k, v in recipe.items()
        )  # a recipe changes something
        assert fashion.as_dict()["recipe"] == "fashion-mnist"
    assert (
        by["logreg", "fashion-mnist"].recipe is None
    )  # no recipe declared: the profile's defaults
    quick = _plan(["cnn-small"], ["fashion-mnist"], profile="quick")[0]
    assert quick.recipe is None and quick.params == SmallCNNAdapter.defaults["quick"]


def test_digits_recipes_train_the_networks_longer_on_its_1318_images():
    jobs = {j.model: j for j in _plan(["mlp", "cnn-small", "cnn-deep", "svm"], ["digits"])}
    assert [
        (m, jobs[m].recipe, jobs[m].params["epochs"]) for m in ("mlp", "cnn-small", "cnn-deep")
    ] == [("mlp", "digits", 30), ("cnn-small", "digits", 40), ("cnn-deep", "digits", 40)]
    assert jobs["cnn-deep"].params["shift"] == 2  # only the epochs change there
    assert jobs["svm"].recipe is None


def test_set_and_grid_go_on_top_of_the_recipe():
    job = _plan(["cnn-small"], ["fashion-mnist"], overrides=["cnn-small.batch_size=64"])[0]
    assert job.params["batch_size"] == 64
    assert job.params["epochs"] == 10
    points = _plan(["mlp"], ["mnist", "fashion-mnist"], grid=["mlp.dropout=0.1,0.3"])
    assert [(j.dataset, j.params["dropout"], j.params["epochs"]) for j in points] == [
        ("mnist", 0.1, 14),
        ("mnist", 0.3, 14),
        ("fashion-mnist", 0.1, 28),
        ("fashion-mnist", 0.3, 28),
    ]


def test_a_recipe_with_an_undeclared_hyper_parameter_is_refused():
    class Broken(SmallCNNAdapter):
        name = "broken-recipe"
        dataset_defaults: ClassVar = {"digits": {"full": {"epochs": 3, "momentum": 0.9}}}

    with pytest.raises(BenchError, match="momentum"):
        Broken.defaults_for("full", "digits")
    assert Broken.defaults_for("full", "mnist") == (SmallCNNAdapter.defaults["full"], None)


def test_unknown_set_key_still_names_the_recipes_parameters():
    with pytest.raises(BenchError, match="unknown hyper-parameter"):
        _plan(["cnn-small"], ["fashion-mnist"], overrides=["cnn-small.nope=1"])


@pytest.fixture(scope="module")
def recipe_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("recipes")
    for extra in ([], ["--set", "logreg-recipe.C=0.5"]):
        proc = run_cli(
            "run",
            "logreg-recipe",
            "--dataset",
            "digits",
            "--profile",
            "quick",
            "--robustness",
            "off",
            "--no-save-models",
            "--no-plots",
            "--out",
            str(out),
            *extra,
            env_extra=RECIPE,
        )
        assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def recipe_plugin():
    """The test plugin registered in this process for one test, then forgotten again."""
    from tests.recipe_adapters import RecipeLogRegAdapter

    registry.REGISTRY["logreg-recipe"] = RecipeLogRegAdapter
    yield RecipeLogRegAdapter
    registry.REGISTRY.pop("logreg-recipe", None)
