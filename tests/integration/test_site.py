"""The static site (``python -m bench report --format html``, issue 23) without a browser:
built from real records (the digits fixtures, with a failed and a skipped job, plus the
committed MNIST quick records, which hold robustness and calibration), it shows every row
with the numbers of the Markdown leaderboard, refers to nothing outside itself, gives the
same bytes for the same records, and a failed or refused build leaves the previous site as
it was. The browser checks are ``test_site_browser``.

The integration tests; helpers, fixtures and the unit tests: ``tests.unit.publish.test_site``."""

from __future__ import annotations

import os
import shutil

from bench import records
from bench.publish import leaderboard as report
from bench.publish.site import build
from tests.conftest import ROOT, assert_one_line_error, run_cli
from tests.unit.publish.test_site import FIXTURES, _files, digits_only, runs, site  # noqa: F401 (fixtures)


def test_same_records_same_bytes_in_every_process(site, runs, tmp_path):
    """Rebuilt here and in two fresh interpreters with other string-hash seeds (set and dict
    orders of strings change with them): the same files, byte for byte."""
    import subprocess
    import sys

    again = build.publish_site(runs, tmp_path / "again", dataset_loader=digits_only).parent
    assert _files(again) == _files(site)
    for seed in ("1", "2"):
        out = tmp_path / f"seed-{seed}"
        code = (
            "import sys; from pathlib import Path; from bench.publish.site import build; "
            "from tests.unit.publish.test_site import digits_only; "
            "build.publish_site(Path(sys.argv[1]), Path(sys.argv[2]), dataset_loader=digits_only)"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(runs), str(out)],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT)),
        )
        assert proc.returncode == 0, proc.stderr
        built, want = _files(out), _files(site)
        assert built.keys() == want.keys()
        assert not [str(k) for k in sorted(built) if built[k] != want[k]], f"PYTHONHASHSEED={seed}"


def test_cli_html_writes_the_site_and_refuses_bad_folders_in_one_line(runs, tmp_path):
    out = tmp_path / "www"
    proc = run_cli("report", "--format", "html", "--runs", str(runs), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"site: {out / 'index.html'}"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me\n")
    assert_one_line_error(
        run_cli("report", "--format", "html", "--runs", str(runs), "--out", str(a_file)),
        str(a_file),
        "not a folder",
    )
    assert a_file.read_text() == "keep me\n"
    assert_one_line_error(
        run_cli("report", "--format", "html", "--runs", str(runs), "--out", str(a_file / "site")),
        f"cannot write the site into {a_file / 'site'}",
    )
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    assert_one_line_error(
        run_cli("report", "--format", "html", "--runs", str(runs), "--out", str(other)),
        str(other),
        "not a site",
    )
    assert sorted(p.name for p in other.iterdir()) == ["thesis.tex"]
    assert_one_line_error(
        run_cli("report", "--format", "html", "--runs", str(runs), "--out", str(runs.parent)),
        "holds the records",
    )
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_default_folders_and_markdown_unchanged(tmp_path):
    """Without --out the site is results/site/ beside results/runs; Markdown stays the
    default format with its own output, and neither touches the other's files."""
    results = tmp_path / "results"
    shutil.copytree(FIXTURES, results / "runs")
    proc = run_cli("report", "--format", "html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (results / "site" / "index.html").is_file() and not (results / "LEADERBOARD.md").exists()
    site_files = {
        p.relative_to(results / "site"): p.read_bytes()
        for p in (results / "site").rglob("*")
        if p.is_file()
    }
    proc = run_cli("report", "--no-plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "leaderboard: results/LEADERBOARD.md"
    expected = report.render(records.load(results / "runs"), results, None)
    assert (results / "LEADERBOARD.md").read_text() == expected
    assert {
        p.relative_to(results / "site"): p.read_bytes()
        for p in (results / "site").rglob("*")
        if p.is_file()
    } == site_files
    assert_one_line_error(
        run_cli("report", "--format", "xml", cwd=tmp_path), "md, csv, json, latex, html"
    )
