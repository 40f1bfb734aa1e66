"""Speed verdicts of ``compare`` and ``check`` (``bench.analysis.speed``), on copies of a
committed record whose timing figures are set by hand.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.analysis.test_speed_compare``."""

from __future__ import annotations

import pytest

from bench import cli, records
from bench.gate import check
from tests.conftest import assert_one_line_error, run_cli
from tests.unit.analysis.test_speed_compare import folders, template, ten_percent  # noqa: F401 (fixtures)


@pytest.mark.parametrize("bad", ["abc", "-5", "0"])
def test_a_bad_percentage_is_one_error_line(folders, bad):
    a, slow, _, _ = folders
    assert_one_line_error(
        run_cli("compare", str(a), str(slow), "--fail-on-slower", bad),
        "--fail-on-slower",
        "positive number",
        repr(bad),
    )


def test_check_fails_on_slower_against_the_baseline_records(folders, tmp_path, capsys):
    a, slow, same, other = folders
    base = tmp_path / "baseline.json"
    check.write_baseline(base, check.build_baseline(records.read_all(a), "mnist", "full", "cpu"))
    argv = ["check", "--baseline", str(base), "--baseline-runs", str(a), "--runs"]
    assert cli.main([*argv, str(slow)]) == 0  # accuracy holds; speed alone never fails
    out = capsys.readouterr().out
    assert (
        "PASS" in out and "### Speed against the baseline's own records" in out and "SLOWER" in out
    )
    assert cli.main([*argv, str(slow), "--fail-on-slower", "10"]) == 1
    assert "SLOWER by more than 10%: logreg" in capsys.readouterr().out
    assert cli.main([*argv, str(same), "--fail-on-slower", "10"]) == 0
    assert cli.main([*argv, str(other), "--fail-on-slower", "10"]) == 0
    out = capsys.readouterr().out
    assert (
        "no speed verdict (the baseline ran on" in out
        and "4 without a speed verdict, which never fail" in out
    )
    # without the baseline's records there is nothing to judge speed by, and check says so
    assert (
        cli.main(
            [
                "check",
                "--baseline",
                str(base),
                "--baseline-runs",
                str(tmp_path / "none"),
                "--runs",
                str(slow),
                "--fail-on-slower",
                "10",
            ]
        )
        == 0
    )
    assert "no speed comparison" in capsys.readouterr().out
    assert_one_line_error(
        run_cli(*argv, str(slow), "--fail-on-slower", "abc"), "--fail-on-slower", "'abc'"
    )
