"""Per-dataset defaults (issue 23): an adapter's ``dataset_defaults`` apply on that dataset
only, under the profiles they name; ``--set`` and ``--grid`` go on top; the job, its record
and the row label say which defaults applied; a recipe naming an undeclared
hyper-parameter is refused.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_dataset_recipes``."""

from __future__ import annotations

import json

from bench import records
from bench.analysis import rowstats
from tests.unit.adapters.test_dataset_recipes import recipe_plugin, recipe_runs  # noqa: F401 (fixtures)


def test_records_and_labels_say_which_defaults_applied(recipe_runs, recipe_plugin):
    recs = [json.loads(p.read_text()) for p in sorted((recipe_runs / "runs").glob("*.json"))]
    assert sorted(r["job"]["params"]["C"] for r in recs) == [0.05, 0.5]
    assert all(
        r["job"]["recipe"] == "digits" and r["job"]["params"]["max_iter"] == 150 for r in recs
    )
    rows = rowstats.row_stats(rowstats.groups(records.load(recipe_runs / "runs"))[0])
    labels = sorted((r.label, r.custom, r.recipe) for r in rows)
    assert labels == [
        ("logreg-recipe [digits recipe] C=0.5 [plugin]", True, "digits"),
        ("logreg-recipe [digits recipe] [plugin]", False, "digits"),
    ]


def test_the_label_follows_the_record_not_todays_recipe(recipe_runs, recipe_plugin, tmp_path):
    """A record made before its dataset had a recipe (no ``job.recipe``) is labelled against
    the profile's defaults: the recipe is never claimed for a run it did not apply to."""
    runs = tmp_path / "runs"
    runs.mkdir()
    for p in sorted((recipe_runs / "runs").glob("*.json")):
        rec = json.loads(p.read_text())
        del rec["job"]["recipe"]
        (runs / p.name).write_text(json.dumps(rec))
    rows = rowstats.row_stats(rowstats.groups(records.load(runs))[0])
    assert sorted((r.label, r.custom, r.recipe) for r in rows) == [
        ("logreg-recipe C=0.05 max_iter=150 [plugin]", True, None),
        ("logreg-recipe C=0.5 max_iter=150 [plugin]", True, None),
    ]
