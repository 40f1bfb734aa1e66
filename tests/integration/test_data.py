"""Built-in datasets: real sources, cache integrity, fall-through, digits layout.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.data.test_data``."""

from __future__ import annotations

import pytest

from tests.conftest import assert_one_line_error, run_cli


def test_cli_data_info_digits_offline():
    proc = run_cli("data", "info", "digits", env_extra={"BENCH_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "1438" in proc.stdout and "359" in proc.stdout


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ("npz:/nonexistent/x.npz", "no such file"),
        ("idx:/nonexistent", "no such directory"),
        ("nope", "unknown dataset"),
    ],
)
def test_cli_bad_dataset_one_line_exit_2(spec, fragment):
    assert_one_line_error(run_cli("data", "info", spec), fragment)


def test_cli_corrupt_user_file_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("label,a,b\n1,2,3\n")
    assert_one_line_error(run_cli("data", "info", f"csv:{bad}"), "785 columns")
