"""User-facing errors.

A ``BenchError`` is a problem with what the user asked for or gave us (unknown model,
bad dataset path, corrupt file, wrong shapes). The CLI prints its message as ONE line,
prefixed with ``error:``, and exits with code 2; no traceback. Anything else that escapes
is a bug and keeps its traceback.
"""


class BenchError(Exception):
    """A clear, one-line complaint about the user's input or environment."""

    exit_code = 2

    def __str__(self) -> str:  # one line, whatever the caller passed
        return " ".join(super().__str__().split())


class DataError(BenchError):
    """A dataset could not be found, fetched, parsed or verified."""
