"""The reference suite: exact tutorial architectures, and a Kaggle-layout CSV through it.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.adapters.test_reference``."""

from __future__ import annotations

from tests.conftest import run_cli


def test_suite_and_names_are_exclusive(tmp_path):
    from tests.conftest import assert_one_line_error

    assert_one_line_error(
        run_cli("run", "logreg", "--suite", "reference", "--out", str(tmp_path)), "not model names"
    )
    assert_one_line_error(
        run_cli("run", "--suite", "famous", "--out", str(tmp_path)), "unknown suite 'famous'"
    )
