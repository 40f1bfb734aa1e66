"""MkDocs hooks for the manual (mkdocs.yml ``hooks``): pages generated at build time from the
code, so they cannot drift from it.

- ``reference/cli.md``: its marker replaced by ``bench.cli.reference.markdown()``, the
  reference generated from the argparse parser.
- ``methodology/columns.md``: its marker replaced by the leaderboard's own legend, one entry
  per column (``bench.publish.tables.legend_entries``).
- ``changelog.md``: the repository's ``CHANGELOG.md``, one file for both.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).parent


def on_files(files, config):
    """Add CHANGELOG.md to the site as ``changelog.md``."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "changelog.md", content=text))
    return files


def on_page_markdown(markdown, page, config, files):
    """Fill the generated pages: the CLI reference from the parser, the column reference from
    the leaderboard's legend."""
    if page.file.src_uri == "reference/cli.md":
        from bench.cli import reference

        return _fill(markdown, page, reference.MARKER, reference.markdown())
    if page.file.src_uri == "methodology/columns.md":
        from bench.publish import tables

        entries = "\n".join(f"- {entry}" for entry in tables.legend_entries())
        return _fill(markdown, page, tables.LEGEND_MARKER, entries)
    return markdown


def _fill(markdown: str, page, marker: str, text: str) -> str:
    if marker not in markdown:
        raise ValueError(f"docs/{page.file.src_uri} lacks the marker {marker}")
    return markdown.replace(marker, text)
