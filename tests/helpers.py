"""Builders for small, valid (and deliberately broken) dataset files."""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path

import numpy as np

from bench.data.userfiles import IDX_FILES


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.tobytes()


def write_idx_dir(d: Path, splits, gz: bool = True) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": splits.x_train,
        "y_train": splits.y_train,
        "x_test": splits.x_test,
        "y_test": splits.y_test,
    }
    for key, stem in IDX_FILES.items():
        raw = idx_bytes(arrays[key])
        if gz:
            (d / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (d / stem).write_bytes(raw)
    return d


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [
        ",".join([str(int(label)), *map(str, img.reshape(-1).tolist())]) for img, label in zip(x, y)
    ]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def markdown_cells(md: str, model: str) -> dict[str, str]:
    """The cells of ``model``'s row in every Markdown table of ``md`` that has one, merged by
    header (the leaderboard splits a group's columns over several tables by theme): in each
    table the first row whose label is ``model`` or ``model`` with a recipe tag in brackets,
    so "cnn-fast" never picks up "cnn-fast precision=bf16" further down."""
    return _row_cells(md, lambda label: label == model or label.startswith(f"{model} ["))


def board_cells(md: str, label: str) -> dict[str, str]:
    """The cells, by header, of the first row of each Markdown table in ``md`` whose model
    cell is ``label`` or ``label`` followed by flags (" [evaluated]", " runtime=..."), merged
    over the tables (the leaderboard's themed tables split one row's columns)."""
    return _row_cells(md, lambda cell: cell == label or cell.startswith(label + " "))


def _row_cells(md: str, is_row) -> dict[str, str]:
    """Per Markdown table of ``md``, the first row whose model cell (bold marks removed)
    ``is_row`` accepts, its cells by header, merged over the tables."""
    cells: dict[str, str] = {}
    header: list[str] | None = None
    found = False
    for line in md.splitlines():
        if not line.startswith("|"):
            header, found = None, False
            continue
        parts = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = parts
        elif not found and len(parts) == len(header) and is_row(parts[0].replace("**", "")):
            cells.update(zip(header, parts))
            found = True
    return cells


def joined_table(md: str) -> tuple[list[str], list[list[str]]]:
    """(header, body rows) of a Markdown table the leaderboard split into several that repeat
    its first column (``tables.text_tables``), joined back into one; cells stripped."""

    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]

    header: list[str] = []
    body: list[list[str]] = []
    for part in md.strip().split("\n\n"):
        lines = [line for line in part.splitlines() if line.startswith("|")]
        if not lines:  # a caption or a note between the tables
            continue
        head, rows = cells(lines[0]), [cells(line) for line in lines[2:]]
        if not header:
            header, body = head, rows
            continue
        assert [r[0] for r in rows] == [r[0] for r in body], "the parts' rows differ"
        header += head[1:]
        body = [a + b[1:] for a, b in zip(body, rows)]
    return header, body


FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
INDENTED = re.compile(r"(?:^|\n\n)((?:(?: {4}|\t)[^\n]*\n?)+)")


def _code_lines(block: str) -> list[str]:
    """The command lines of a code block: continuations joined, a ``$ `` prompt dropped, cut
    at a ``#`` comment or a gap of two spaces before a description, split at ``&&``."""
    out = []
    for line in re.sub(r"\s*\\\n\s*", " ", block).splitlines():
        line = line.strip().removeprefix("$ ")
        line = re.split(r"\s#|\s{2,}", line, maxsplit=1)[0]
        out += [part.strip() for part in line.split("&&")]
    return out


def block_commands(text: str) -> list[str]:
    """The command lines of a Markdown page's fenced, then its indented code blocks (see
    ``_code_lines``), in page order within each kind."""
    prose = FENCE.sub("", text)
    blocks = FENCE.findall(text) + INDENTED.findall(prose)
    return [line for block in blocks for line in _code_lines(block) if line]


def documented_commands(text: str) -> list[str]:
    """Each command line a Markdown page shows: ``block_commands``, then its inline code
    spans (which may wrap across lines); ``a && b`` gives ``a`` and ``b``. Prose in code
    spans comes too: callers keep the lines that start with the programs they know."""
    found = block_commands(text)
    prose = INDENTED.sub("", FENCE.sub("", text))
    for span in re.findall(r"`([^`]+)`", prose):
        found += [part.strip() for part in " ".join(span.split()).split("&&")]
    return [line for line in found if line]
