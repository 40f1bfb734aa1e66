"""What a suite shows while it runs.

``Plain`` prints one line per event (today's format; what logs and CI get). ``Live`` draws a
``rich`` display on a terminal: jobs done / running / left, the suite's ETA and, for each
running job, where it runs and its latest progress line (epoch, boosting round). ``choose``
picks ``Live`` only when stdout is a terminal and ``rich`` is installed.

Every method is called from the suite's main thread; executors queue what their workers
report and hand it over there.
"""

from __future__ import annotations

import re
import sys
import time

from bench.run.supervise import summary_line

# the lines worth keeping as a running job's "current step" in the live display
STEP = re.compile(
    r"^(epoch|round|iteration|stage|fit:|prepared|data:|measuring|test accuracy|model saved)"
)


def say(line: str) -> None:
    """Print ``line`` and flush it: a suite's progress reaches a pipe or log as it happens,
    even where stdout is block-buffered (the CLI makes it line-buffered for every print,
    ``bench.cli.flush_every_line``; a program calling ``bench.run`` itself may not)."""
    print(line, flush=True)


class Plain:
    """One printed line per event; with jobs running side by side each line names its job.
    ``echo`` takes each line; plain ``print`` is replaced by ``say``, which flushes it."""

    def __init__(self, echo=say):
        self.echo = say if echo is print else echo
        self.total = 0
        self.parallel = False
        self.t0 = time.monotonic()

    def skipped(self, index: int, total: int, job, run_id: str) -> None:
        self.echo(
            f"[{index}/{total}] {job.title()}  already done (record {run_id}), skipped by --resume"
        )

    def begin(self, total: int, todo: list, parallel: bool = False) -> None:
        self.total, self.parallel, self.t0 = total, parallel, time.monotonic()

    def started(self, index: int, job, where: str = "") -> None:
        on = f" on {where}" if where else ""
        self.echo(
            f"[{index}/{self.total}] {job.title()}  (suite {time.monotonic() - self.t0:.0f}s){on}"
        )

    def line(self, index: int, elapsed: float, text: str) -> None:
        mark = f"#{index} " if self.parallel else ""
        self.echo(f"    [{mark}{elapsed:6.1f}s] {text}")

    def finished(self, index: int, outcome) -> None:
        mark = f"[{index}/{self.total}] " if self.parallel else ""
        self.echo(f"    -> {mark}{summary_line(outcome)}")

    def close(self) -> None:
        pass


class Live(Plain):
    """A ``rich`` live display: an overall bar with ETA and a line per running job.
    Finished jobs are printed above the display as permanent lines."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console()
        super().__init__(self.console.print)
        self.running: dict[int, list] = {}  # index -> [title, where, started, latest step]
        self.done = 0
        self.durations: list[float] = []
        self.live = None

    def begin(self, total: int, todo: list, parallel: bool = False) -> None:
        from rich.live import Live as RichLive

        super().begin(total, todo, parallel)
        self.todo = len(todo)
        self.live = RichLive(
            self._render(), console=self.console, refresh_per_second=4, transient=True
        )
        self.live.start()

    def skipped(self, index, total, job, run_id) -> None:
        self.console.print(
            f"[dim][{index}/{total}] {job.title()}  already done (record {run_id})[/dim]",
            highlight=False,
        )

    def started(self, index: int, job, where: str = "") -> None:
        self.running[index] = [job.title(), where, time.monotonic(), "starting"]
        self._refresh()

    def line(self, index: int, elapsed: float, text: str) -> None:
        if index in self.running and STEP.match(text):
            self.running[index][3] = text
            self._refresh()

    def finished(self, index: int, outcome) -> None:
        entry = self.running.pop(index, None)
        self.done += 1
        if entry is not None:
            self.durations.append(time.monotonic() - entry[2])
        style = "green" if outcome.status == "ok" else "red"
        self.console.print(
            f"[{style}][{index}/{self.total}][/{style}] {outcome.job.title()}  "
            f"{summary_line(outcome)}",
            highlight=False,
        )
        self._refresh()

    def eta_s(self) -> float | None:
        """Left jobs times the mean finished job's duration, shared over the running slots."""
        if not self.durations:
            return None
        left = self.todo - self.done
        slots = max(len(self.running), 1)
        return left * (sum(self.durations) / len(self.durations)) / slots

    def _render(self):
        from rich.table import Table

        left = self.todo - self.done - len(self.running)
        eta = self.eta_s()
        head = (
            f"suite {time.monotonic() - self.t0:.0f}s · {self.done} done · {len(self.running)} running · "
            f"{left} left · ETA " + (f"{eta / 60:.1f} min" if eta is not None else "…")
        )
        table = Table(title=head, title_justify="left", show_header=True, box=None, pad_edge=False)
        for col in ("job", "where", "time", "now"):
            table.add_column(col, overflow="ellipsis", no_wrap=True)
        for index, (title, where, started, step) in sorted(self.running.items()):
            table.add_row(
                f"[{index}/{self.total}] {title}", where, f"{time.monotonic() - started:.0f}s", step
            )
        return table

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._render())

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def choose(echo=say):
    """``Live`` on a terminal with ``rich`` installed, ``Plain`` otherwise (logs, CI, pipes)."""
    if echo in (say, print) and sys.stdout.isatty():
        try:
            import rich  # noqa: F401
        except ImportError:
            return Plain(echo)
        return Live()
    return Plain(echo)
