"""MkDocs hooks for the manual (mkdocs.yml ``hooks``): pages generated at build time from the
code, so they cannot drift from it.

- ``reference/cli.md``: its marker replaced by ``bench.cli.reference.markdown()``, the
  reference generated from the argparse parser.
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
    """Fill the CLI reference page from the parser."""
    if page.file.src_uri != "reference/cli.md":
        return markdown
    from bench.cli import reference

    if reference.MARKER not in markdown:
        raise ValueError(f"docs/reference/cli.md lacks the marker {reference.MARKER}")
    return markdown.replace(reference.MARKER, reference.markdown())
