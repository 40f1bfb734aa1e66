"""The front page and the manual against the code: the README stays short with one narrow
table, every ``python -m bench`` command the README and the docs show is one the parser
accepts as written, and the generated CLI reference names every subcommand and flag that
``--help`` prints (argparse's own help text, read independently of the generator).

The manual's links and its API page are checked by ``mkdocs build --strict`` in ``.ci/run``.
"""

from __future__ import annotations

import re
import shlex

import pytest

from bench.cli import reference
from bench.cli.parser import build_parser
from bench.core.errors import BenchError
from tests.conftest import ROOT

README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").rglob("*.md"))
FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
PREFIX = "python -m bench "


def _commands(text: str) -> list[str]:
    """Each ``python -m bench ...`` a page shows: the lines of its code blocks (shell line
    continuations joined, up to a ``#`` comment or a gap of two spaces before a description)
    and its inline code spans (which may wrap across lines)."""
    found = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.split(r"\s#|\s{2,}", line.strip(), maxsplit=1)[0]
            for part in line.split("&&"):
                if part.strip().startswith(PREFIX):
                    found.append(part.strip()[len(PREFIX) :])
    for span in re.findall(r"`([^`]+)`", FENCE.sub("", text)):
        span = " ".join(span.split())
        if span.startswith(PREFIX):
            found.append(span[len(PREFIX) :])
    return found


def _argv(command: str) -> list[str]:
    """The words of a command; an optional part written ``[--flag]`` is given."""
    words = shlex.split(command)
    return [w[1:-1] if w.startswith("[") and w.endswith("]") else w for w in words]


def test_the_readme_is_a_front_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines"
    tables = [line for line in lines if line.startswith("|") and set(line) <= set("|-: ")]
    assert tables, "the README shows a table"
    for rule in tables:
        assert rule.count("|") - 1 <= 8, rule


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_documented_command_parses(page):
    parser = build_parser()
    commands = _commands(page.read_text())
    bad = []
    for command in commands:
        if len(command.split()) <= 1:
            continue  # prose naming a command ("what `python -m bench predict` pays")
        try:
            parser.parse_args(_argv(command))
        except SystemExit as stop:  # --help exits 0
            if stop.code:
                bad.append(command)
        except BenchError as e:  # the parser's one-line usage error
            bad.append(f"{command}: {e}")
    assert bad == [], f"{page.name}: commands the parser refuses"


def test_the_readme_shows_commands():
    assert len(_commands(README.read_text())) >= 8


def test_the_cli_reference_names_every_subcommand_and_flag_of_help():
    parser = build_parser()
    text = reference.markdown(parser)
    names = re.search(r"\{([a-z,-]+)\}", parser.format_usage()).group(1).split(",")
    assert names and all(f"## {name}\n" in text for name in names)
    for name, sub in reference.subcommands(parser).items():
        section = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        flags = _help_flags(sub.format_help()) - {"-h", "--help"}
        missing = sorted(f for f in flags if f"`{f}" not in section)
        assert missing == [], f"{name}: {missing}"


def _help_flags(help_text: str) -> set[str]:
    """The flags ``--help`` lists: the left column of its argument lines (help text aside)."""
    flags = set()
    for line in help_text.splitlines():
        if re.match(r"\s{2}-", line):
            column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
            flags |= set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", column))
    return flags


def test_the_cli_page_takes_the_generated_reference():
    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    assert reference.MARKER in page
