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
from tests.helpers import documented_commands

README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").rglob("*.md"))
PREFIX = "python -m bench "


def _commands(text: str) -> list[str]:
    """The arguments of each ``python -m bench ...`` a page shows (``documented_commands``)."""
    return [c[len(PREFIX) :] for c in documented_commands(text) if c.startswith(PREFIX)]


def _argv(command: str) -> list[str]:
    """The words of a command; an optional part written ``[--flag]`` is given."""
    words = shlex.split(command)
    return [w[1:-1] if w.startswith("[") and w.endswith("]") else w for w in words]


def _check_run(args) -> None:
    """What ``run`` checks before it fetches or trains anything (the run configuration: the
    models, profile, datasets, --set/--grid keys, values): ``BenchError`` when it refuses."""
    from bench.cli import train
    from bench.cli.parser import run_config
    from bench.run import entry

    names = train._model_names(args)
    datasets = args.dataset or ["mnist"]
    config = run_config(args, names, datasets, args.profile, args.device, args.seeds, args.out)
    entry.validate(config)


def test_the_readme_is_a_front_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines"
    tables = [line for line in lines if line.startswith("|") and set(line) <= set("|-: ")]
    assert tables, "the README shows a table"
    for rule in tables:
        assert rule.count("|") - 1 <= 8, rule


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_documented_command_parses(page, tmp_path, monkeypatch, capsys):
    """Every command parses; a ``run`` command (without a plugin or a trained file, which need
    their files) also passes the run's own checks, as far as they go before training."""
    monkeypatch.chdir(tmp_path)  # relative --out folders land here, if anything is made
    parser = build_parser()
    bad = []
    for command in _commands(page.read_text()):
        if len(command.split()) <= 1 or "..." in command:
            continue  # prose naming a command ("what `python -m bench predict` pays")
        argv = _argv(command)
        try:
            args = parser.parse_args(argv)
            external = {"--plugin", "--with", "--help"} & set(argv)
            if argv[0] == "run" and not external:
                _check_run(args)
        except SystemExit as stop:  # --help exits 0
            if stop.code:
                bad.append(command)
        except BenchError as e:  # the parser's or the run's one-line error
            bad.append(f"{command}: {e}")
    capsys.readouterr()  # --help's text
    assert bad == [], f"{page.name}: commands the harness refuses"


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
        missing = sorted(f for f in flags if not re.search(rf"`{re.escape(f)}[ `]", section))
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


def test_the_column_reference_is_the_leaderboards_legend_cut_by_column():
    from bench.publish import tables

    page = (ROOT / "docs" / "methodology" / "columns.md").read_text()
    assert tables.LEGEND_MARKER in page
    entries = tables.legend_entries()
    assert " ".join(entries) == tables.LEGEND  # nothing lost or added
    assert all(e.startswith("**") for e in entries) and len(entries) >= 15
    named = " ".join(e.split("**")[1] for e in entries)
    for header in ("accuracy % (95% CI)", "vs best", "train s", "p50 / FLOP limit", "ECE %"):
        assert header in named
