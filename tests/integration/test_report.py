"""Leaderboards and figures from stored records only (fixtures: real digits runs).

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.publish.test_report``."""

from __future__ import annotations

import shutil

from tests.conftest import assert_one_line_error, run_cli
from tests.unit.publish.test_report import FIXTURES


def test_cli_report_with_readme_section(tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(FIXTURES / "runs", runs)
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- leaderboard:start -->\nold\n<!-- leaderboard:end -->\n\ntail\n")
    proc = run_cli(
        "report",
        "--runs",
        str(runs),
        "--out",
        str(tmp_path / "o"),
        "--no-plots",
        "--readme",
        str(readme),
    )
    assert proc.returncode == 0, proc.stderr
    text = readme.read_text()
    assert (
        "old" not in text
        and "| logreg " in text
        and text.endswith("<!-- leaderboard:end -->\n\ntail\n")
    )
    assert not (tmp_path / "o" / "plots").exists()
    readme.write_text("no markers\n")
    assert_one_line_error(
        run_cli(
            "report",
            "--runs",
            str(runs),
            "--out",
            str(tmp_path / "o"),
            "--no-plots",
            "--readme",
            str(readme),
        ),
        "no leaderboard markers",
    )
    assert_one_line_error(run_cli("report", "--runs", str(tmp_path / "none")), "run records")
    assert_one_line_error(
        run_cli("report", "--runs", str(runs), "--format", "xml"), "md, csv, json"
    )
