"""``report --check``: the published outputs of a results folder against what its records make
(fixture records, in-process): a match passes and writes nothing; an edited leaderboard, a
missing, stray or resized figure, an edited site file and a stale README section are each
named, with exit 1."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest

from bench.cli import main
from bench.publish import leaderboard
from bench.publish.site import build
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _png(width: int, height: int) -> bytes:
    """A valid one-colour PNG of the given size (written by hand: its header is what is checked)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A results folder published from the fixture records: runs, leaderboard, figures, site,
    and a README whose section is current."""
    out = tmp_path_factory.mktemp("published")
    shutil.copytree(FIXTURES / "runs", out / "runs")
    leaderboard.publish(out / "runs", out)
    build.publish_site(out / "runs", out / "site")
    readme = out / "README.md"
    readme.write_text(f"# x\n\n{leaderboard.README_START}\nold\n{leaderboard.README_END}\n")
    leaderboard.update_readme(readme, leaderboard.load_frame(out / "runs"))
    return out


def _check(folder: Path, capsys) -> tuple[int, list[str]]:
    code = main(["report", "--check", "--out", str(folder), "--readme", str(folder / "README.md")])
    return code, capsys.readouterr().out.splitlines()


def test_matching_outputs_pass_and_nothing_is_written(published, tmp_path, capsys):
    folder = tmp_path / "r"
    shutil.copytree(published, folder)
    before = _tree(folder)
    code, lines = _check(folder, capsys)
    assert code == 0, lines
    assert lines[-1].startswith("ok: LEADERBOARD.md and its figures, the site and ")
    assert _tree(folder) == before


def test_each_drift_is_named_and_fails(published, tmp_path, capsys):
    folder = tmp_path / "r"
    shutil.copytree(published, folder)
    pngs = sorted((folder / "plots").glob("*.png"))
    assert len(pngs) >= 2
    pngs[0].unlink()
    pngs[1].write_bytes(_png(3, 2))
    (folder / "plots" / "gone-row-curves.png").write_bytes(_png(3, 2))
    with open(folder / "LEADERBOARD.md", "a") as fh:
        fh.write("hand edit\n")
    page = next(p for p in sorted((folder / "site").rglob("*.html")) if p.name != "index.html")
    page.write_text(page.read_text() + " ")
    readme = folder / "README.md"
    readme.write_text(readme.read_text().replace("| logreg ", "| logreg-x ", 1))
    code, lines = _check(folder, capsys)
    assert code == 1
    named = "\n".join(lines)
    assert f"plots/{pngs[0].name}: missing" in named
    assert f"plots/{pngs[1].name}: (3, 2) pixels" in named
    assert "plots/gone-row-curves.png: no row or table draws it" in named
    assert "LEADERBOARD.md: differs" in named
    assert f"{page.relative_to(folder / 'site')}: differs" in named
    assert "README.md: its leaderboard section differs" in named
    assert lines[-1].startswith("error: 6 published output(s) differ")


def test_check_refuses_another_format(published, capsys):
    code = main(["report", "--check", "--out", str(published), "--format", "csv"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --check") and "--format csv" in err[0]


def _table_headers(section: str) -> list[str]:
    header = next(line for line in section.splitlines() if line.startswith("| model"))
    return [h.strip() for h in header.strip().strip("|").split("|")]


def test_the_readme_table_is_mnist_full_with_the_front_page_columns():
    from tests.conftest import COMMITTED

    df = leaderboard.load_frame(COMMITTED / "runs")
    section = leaderboard.readme_section(df)
    assert section.splitlines()[0].startswith("**mnist · full profile · cpu · ")
    assert _table_headers(section) == [
        "model",
        "accuracy % (95% CI)",
        "vs best",
        "corrupted % (95% CI)",
        "train s",
        "infer img/s",
        "params",
    ]
    assert section.count("| model") == 1  # one table, not one per dataset
    ok = df[(df["job.dataset"] == "mnist") & (df["job.profile"] == "full") & (df["status"] == "ok")]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    assert {r.split()[0] for r in rows[1:]} == set(ok["job.model"])


def test_the_readme_table_falls_back_to_the_first_table_without_mnist_full():
    df = leaderboard.load_frame(FIXTURES / "runs")  # digits, quick profile only
    section = leaderboard.readme_section(df)
    assert section.splitlines()[0].startswith("**digits · quick profile · cpu · ")
    assert len(_table_headers(section)) == 7
