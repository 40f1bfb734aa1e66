"""The CLI reference as Markdown, generated from the argparse parser itself (``build_parser``),
so the manual cannot drift from ``python -m bench --help``: every subcommand with its usage
line and a table of its arguments (flags, value, help with defaults expanded). The docs
site's build hook (``mkdocs_hooks.py``) writes it into ``docs/reference/cli.md``.
"""

from __future__ import annotations

import argparse

from bench.cli.parser import build_parser

MARKER = "<!-- cli-reference -->"  # where the docs page takes the generated text


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Subcommand name -> its parser, in the order ``--help`` lists them."""
    for action in parser._actions:  # argparse has no public accessor for subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _summary(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Subcommand name -> its one-line help, as ``--help`` prints it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def _help_text(action: argparse.Action, prog: str) -> str:
    """The action's help as ``--help`` prints it (argparse's own expansion: ``%(default)s``
    filled, ``%%`` as ``%``), one line, pipes escaped."""
    text = argparse.HelpFormatter(prog)._expand_help(action) if action.help else ""
    return " ".join(text.split()).replace("|", "\\|")


def _argument(action: argparse.Action) -> str:
    """How the argument is written: its flags (with a value placeholder) or its name."""
    if not action.option_strings:
        if action.metavar is None and action.choices:
            return f"`{{{','.join(map(str, action.choices))}}}`"  # as --help shows it
        return f"`{action.metavar or action.dest}`"
    value = ""
    if action.nargs != 0:
        metavar = action.metavar or action.dest.upper()
        value = " " + (metavar if isinstance(metavar, str) else " ".join(metavar))
    return ", ".join(f"`{flag}{value}`" for flag in action.option_strings)


def _table(parser: argparse.ArgumentParser) -> list[str]:
    rows = [
        f"| {_argument(a)} | {_help_text(a, parser.prog)} |"
        for a in parser._actions
        if a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
    ]
    return ["| argument | what it does |", "|---|---|", *rows] if rows else []


def markdown(parser: argparse.ArgumentParser | None = None) -> str:
    """The whole reference: the top-level usage, then one section per subcommand."""
    parser = parser or build_parser()
    summary = _summary(parser)
    parts = [
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| [`{name}`](#{name}) | {summary.get(name, '')} |" for name in subcommands(parser)),
        "",
    ]
    for name, sub in subcommands(parser).items():
        parts += [f"## {name}", "", summary.get(name, "") or (sub.description or ""), ""]
        parts += ["```text", sub.format_usage().strip(), "```", "", *_table(sub), ""]
    return "\n".join(parts)
