"""Shared rich consoles, the CLI's reporter and progress bars: data on stdout, progress and logs on stderr."""

from __future__ import annotations

import os
import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from stitchcli import events

# Off a terminal (logs, pipes, CI) rich would assume 80 columns and cut table cells; there the
# width is whatever the table needs, unless COLUMNS says otherwise.
_WIDE = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 1000
# Tables fit the terminal (soft_wrap off: rich would otherwise let them run past its width).
stdout = Console(width=_WIDE)
stderr = Console(stderr=True, soft_wrap=True)


LOG_EVERY_S = 10.0


class LoggedProgress(Progress):
    """Off a terminal, where a redrawn bar would be noise in logs, a plain line per task every
    ``LOG_EVERY_S`` seconds instead: done/total, rate and time left (CI and cluster job logs), and
    one when it finishes. A task shorter than that stays silent."""

    def __init__(self, *args, every: float = LOG_EVERY_S, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._every = every
        self._started: dict = {}
        self._last: dict = {}
        self._done: set = set()

    def update(self, task_id, *args, **kwargs) -> None:  # noqa: ANN001 - rich's signature
        super().update(task_id, *args, **kwargs)
        self._maybe_log(task_id)

    def advance(self, task_id, advance: float = 1) -> None:  # noqa: ANN001
        super().advance(task_id, advance)
        self._maybe_log(task_id)

    def _maybe_log(self, task_id) -> None:  # noqa: ANN001
        now = time.monotonic()
        task = self._tasks[task_id]
        start = self._started.setdefault(task_id, now)
        if task.finished:
            if task_id in self._done or now - start < self._every:
                return
            self._done.add(task_id)
        elif now - self._last.get(task_id, start) < self._every:
            return
        self._last[task_id] = now
        total = f"/{task.total:.0f} ({task.completed / task.total:.0%})" if task.total else ""
        speed = task.finished_speed or task.speed
        rate = f", {speed:,.1f}/s" if speed else ""
        left = task.time_remaining
        eta = f", {left:.0f} s left" if left is not None and not task.finished else ""
        log(f"{task.description}: {task.completed:.0f}{total}{rate}{eta}")


def progress(*extra_columns) -> Progress:
    """A progress bar on stderr; ``extra_columns`` go after the count (speed, loss...). Off a
    terminal, plain lines every ten seconds instead (see ``LoggedProgress``). The core's tasks reach
    it through ``ConsoleReporter``."""
    if not stderr.is_terminal:
        return LoggedProgress(TextColumn("{task.description}"), console=stderr, disable=True)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        # Only on a terminal: in logs and pipes a redrawn bar is noise around the real output.
        disable=not stderr.is_terminal,
        transient=False,
    )


def log(message: str) -> None:
    """A status line for people, on stderr so that stdout stays parseable."""
    stderr.print(message, highlight=False)


class _RateColumn(ProgressColumn):
    """Samples per second, from rich's own moving estimate (blank for a task added with rate=False)."""

    def render(self, task) -> Text:  # noqa: ANN001
        if not task.fields.get("rate", True):
            return Text("")
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "…/s", style="cyan")


def rate_column() -> ProgressColumn:
    return _RateColumn()


class _Bar(events.Progress):
    """One task of the reporter's shared bar."""

    def __init__(self, reporter: ConsoleReporter, task) -> None:  # noqa: ANN001 - a rich TaskID
        self.reporter, self.task, self.closed = reporter, task, False

    def advance(self, n: float = 1, description: str | None = None) -> None:
        bar = self.reporter.bar
        if self.closed or bar is None:
            return
        if description is None:
            bar.advance(self.task, n)
        else:
            bar.update(self.task, advance=n, description=description)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.reporter.closed_one()


class ConsoleReporter(events.Reporter):
    """The CLI's reporter: status lines and progress bars on stderr (off a terminal, plain lines every
    ``LOG_EVERY_S``; see ``LoggedProgress``), warnings always; ``verbose=False`` (``--quiet``,
    ``--json``) keeps only the warnings. Tasks open at once share one bar (rich draws one at a time)."""

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.bar: Progress | None = None
        self._open = 0

    def log(self, message: str) -> None:
        if self.verbose:
            stderr.print(message, markup=False, highlight=False)

    def warn(self, message: str) -> None:
        stderr.print(Text.assemble(("warning:", "yellow"), " ", message), highlight=False)

    def progress(self, description: str, total: float | None = None, *, completed: float = 0,
                 rate: bool = False) -> events.Progress:
        if not self.verbose:
            return events.Progress()
        if self.bar is None:
            self.bar = progress(rate_column())
            self.bar.start()
        self._open += 1
        return _Bar(self, self.bar.add_task(description, total=total, completed=completed, rate=rate))

    def closed_one(self) -> None:
        self._open -= 1
        if self._open <= 0 and self.bar is not None:
            self.bar.stop()
            self.bar = None


SHOWN = 200  # characters of one value from a file shown in a table or a status line


def safe(value, limit: int = SHOWN) -> str:
    """A value read from a file, safe to print for people: control characters escaped (no ANSI
    escapes or fake lines from a crafted file), rich markup escaped, at most ``limit`` characters."""
    from rich.markup import escape

    from stitchcli.errors import printable

    return escape(printable(str(value), limit))


NAME_MIN_WIDTH = 12  # a name column folds, but never below this (or its longest name)


class _Fitted:
    """A table that is printed as it is when its narrowest layout fits the terminal, else stacked:
    one block of ``header: value`` lines per row, so that no number is ever cut."""

    def __init__(self, table) -> None:
        self.table = table

    def __rich_console__(self, console, options):  # noqa: ANN001, ANN204 - rich's protocol
        table = self.table
        # The widths rich will use (it overflows, and crops, when even its narrowest layout is wider).
        extra = table._extra_width
        widths = table._calculate_column_widths(console, options.update_width(options.max_width - extra))
        if sum(widths) + extra <= options.max_width:
            yield table
            return
        if table.title:
            yield Text.from_markup(str(table.title), style="bold")
        headers = [Text.from_markup(str(column.header)).plain for column in table.columns]
        width = max(map(len, headers), default=0)
        for row in range(table.row_count):
            lines = [f"{header.ljust(width)}  {column._cells[row]}"
                     for header, column in zip(headers, table.columns, strict=True)]
            yield Text.from_markup("\n".join(lines) + "\n")
        if table.caption:
            yield Text.from_markup(str(table.caption), style="dim")

    def __rich_measure__(self, console, options):  # noqa: ANN001, ANN204
        return self.table.__rich_measure__(console, options)


def keep_numbers_whole(table):
    """Numbers are never cut: on a narrow terminal rich shrinks every column, and a numeric one can
    collapse to ``0.…`` or to nothing. Right-aligned (numeric) columns keep the width of their
    widest cell, headers wrap at spaces; left-aligned (name) columns fold down to a few characters;
    a table that still cannot fit is stacked (one block per row). Call it once the rows are in."""
    for column in table.columns:
        cells = [Text.from_markup(cell).plain if isinstance(cell, str) else str(cell)
                 for cell in column._cells]
        widest = max((len(cell) for cell in cells), default=0)
        column.no_wrap = False
        column.overflow = "fold"
        if column.justify == "right":
            column.min_width = widest or None
        else:
            column.min_width = min(widest, NAME_MIN_WIDTH) or None
    return _Fitted(table)
