"""Are the published outputs what their records make? ``report --check``.

A results folder holds outputs generated from its records: ``LEADERBOARD.md`` and its figures,
the static site under ``site/`` and the README's leaderboard section. This module regenerates
each into a temporary folder and lists every difference from what is there, without writing
into the results folder. The rule per output:

- ``LEADERBOARD.md`` and every site file: the same bytes;
- the figures (``plots/*.png``): the same set of names at the same pixel sizes (the pixels of a
  PNG may differ between matplotlib builds; its name and size may not);
- the README's section between the leaderboard markers: the same text.
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

from bench.publish import leaderboard


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a PNG file, or None when it is not one."""
    head = Path(path).read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 24:
        return None
    return struct.unpack(">II", head[16:24])


def _files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by its path relative to it (hidden files included)."""
    folder = Path(folder)
    return (
        {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}
        if folder.is_dir()
        else {}
    )


def check_leaderboard(runs: Path, results: Path, scratch: Path) -> list[str]:
    """Differences between ``results``' LEADERBOARD.md and figures and those ``runs`` make."""
    made = leaderboard.publish(runs, scratch)
    have = Path(results) / "LEADERBOARD.md"
    problems = []
    if not have.is_file():
        problems.append(f"{have}: missing")
    elif have.read_text() != made.read_text():
        problems.append(f"{have}: differs from what the records make")
    want = {p.name: p for p in (scratch / "plots").glob("*.png")}
    got = {p.name: p for p in (Path(results) / "plots").glob("*.png")}
    problems += [f"{results}/plots/{n}: missing" for n in sorted(set(want) - set(got))]
    problems += [
        f"{results}/plots/{n}: no row or table draws it" for n in sorted(set(got) - set(want))
    ]
    problems += [
        f"{results}/plots/{n}: {png_size(got[n])} pixels, the records draw {png_size(want[n])}"
        for n in sorted(set(want) & set(got))
        if png_size(got[n]) != png_size(want[n])
    ]
    return problems


def check_site(runs: Path, site: Path, scratch: Path) -> list[str]:
    """Differences between the site folder ``site`` and the site ``runs`` make (byte for byte)."""
    from bench.publish.site import build

    made = _files(build.publish_site(runs, scratch / "site").parent)
    have = _files(site)
    problems = [f"{site}/{n}: missing" for n in sorted(set(made) - set(have))]
    problems += [
        f"{site}/{n}: not part of the site the records make" for n in sorted(set(have) - set(made))
    ]
    problems += [
        f"{site}/{n}: differs from what the records make"
        for n in sorted(set(made) & set(have))
        if made[n].read_bytes() != have[n].read_bytes()
    ]
    return problems


def check_readme(runs: Path, readme: Path) -> list[str]:
    """The README's leaderboard section, if it differs from what ``runs`` make."""
    text = Path(readme).read_text()
    if leaderboard.README_START not in text or leaderboard.README_END not in text:
        return [
            f"{readme}: no leaderboard markers ({leaderboard.README_START}, {leaderboard.README_END})"
        ]
    section = text.split(leaderboard.README_START, 1)[1].split(leaderboard.README_END, 1)[0]
    want = "\n" + leaderboard.readme_section(leaderboard.load_frame(runs)) + "\n"
    return (
        []
        if section == want
        else [f"{readme}: its leaderboard section differs from what the records make"]
    )


def check(
    runs: Path, results: Path, site: Path | None = None, readme: Path | None = None
) -> list[str]:
    """Every difference between the published outputs of ``results`` (and ``site``, ``readme``
    when given) and what the records in ``runs`` make; empty when they match. Writes only into
    a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        scratch = Path(tmp)
        problems = check_leaderboard(runs, results, scratch / "md")
        if site is not None:
            problems += check_site(runs, site, scratch / "html")
    if readme is not None:
        problems += check_readme(runs, readme)
    return problems
