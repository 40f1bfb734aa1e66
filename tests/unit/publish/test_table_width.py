"""Tables a person can read: the leaderboard's row columns split by theme, none wider than
about ten columns; a wide table (robustness per corruption, ranking per condition) split
into several that each repeat the model column."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import records
from bench.analysis.rowstats import COLUMNS, TABLE_COLUMNS
from bench.publish import leaderboard, tables
from tests.conftest import COMMITTED, ROOT


def _widths(md: str) -> list[int]:
    """The column count of every Markdown table (its rule line) in ``md``."""
    return [
        line.count("|") - 1
        for line in md.splitlines()
        if line.startswith("|") and set(line) <= set("|-: ")
    ]


def test_every_table_column_is_in_one_theme_of_at_most_ten():
    themed = {name for _, columns in tables.THEMES for name in columns}
    for key in TABLE_COLUMNS:
        header = COLUMNS[key][0]
        assert header in themed or (key == "tta_s" and tables.TTA in themed), header
    assert all(len(columns) <= 10 for _, columns in tables.THEMES)
    assert all(columns[0] == "model" for _, columns in tables.THEMES)


def test_split_wide_keeps_the_first_column_and_every_other_once():
    assert tables.split_wide(["m", "a", "b"], width=11) == [[0, 1, 2]]
    headers = ["model", *(f"c{i}" for i in range(18))]  # 19 columns, as robustness per corruption
    parts = tables.split_wide(headers, width=11)
    assert parts == [[0, *range(1, 10)], [0, *range(10, 19)]]  # two tables of 10, not 11 and 9
    assert sorted(i for part in parts for i in part[1:]) == list(range(1, 19))
    exactly = ["model", *(f"c{i}" for i in range(20))]  # 21 = 1 + 2 x 10
    assert [len(p) for p in tables.split_wide(exactly, width=11)] == [11, 11]
    one_over = ["model", *(f"c{i}" for i in range(11))]  # 12: never a table of model + 1
    assert [len(p) for p in tables.split_wide(one_over, width=11)] == [7, 6]
    with pytest.raises(ValueError, match="room for its first column"):
        tables.split_wide(headers, width=1)


def test_text_tables_repeat_the_rows_in_each_part():
    md = tables.text_tables(
        ["model", "a", "b", "c"], [["x", "1", "2", "3"], ["y", "4", "5", "6"]], 3
    )
    parts = md.split("\n\n")
    assert len(parts) == 2 and all("| x " in p and "| y " in p for p in parts)
    assert "| a " in parts[0] and "| b " in parts[0] and "| c " in parts[1]


def test_the_committed_leaderboard_has_no_table_wider_than_eleven_columns(tmp_path):
    df = leaderboard.load_frame(COMMITTED / "runs")
    md = leaderboard.render(df, Path(tmp_path), None)
    widths = _widths(md)
    assert widths and max(widths) <= tables.WIDTH
    assert md.count("**Accuracy**") == md.count("**Inference cost**") >= 3  # one set per table


def test_fixture_leaderboard_tables_are_narrow():
    md = leaderboard.render(records.load(ROOT / "tests" / "fixtures" / "runs"), Path("."), None)
    assert max(_widths(md)) <= tables.WIDTH


def test_the_leaderboard_and_the_site_open_on_mnist_full(tmp_path):
    from bench.analysis import rowstats

    df = leaderboard.load_frame(COMMITTED / "runs")
    by_name = [g.dataset for g in rowstats.groups(df)]
    assert by_name[0] != "mnist"  # alphabetical order would open on another dataset
    md = leaderboard.render(df, Path(tmp_path), None)
    first = next(line for line in md.splitlines() if line.startswith("## "))
    assert first.startswith("## mnist · full profile · cpu")
    ordered = leaderboard.front_first(rowstats.groups(df))
    assert (ordered[0].dataset, ordered[0].profile) == ("mnist", "full")
    assert [g.title for g in ordered[1:]] == [
        g.title for g in rowstats.groups(df) if g.title != ordered[0].title
    ]
