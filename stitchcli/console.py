"""Shared rich consoles and progress bars: data on stdout, progress and logs on stderr."""

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

# Off a terminal (logs, pipes, CI) rich would assume 80 columns and cut table cells; there the
# width is whatever the table needs, unless COLUMNS says otherwise.
_WIDE = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 1000
stdout = Console(soft_wrap=True, width=_WIDE)
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


def progress(*extra_columns, quiet: bool = False) -> Progress:
    """A progress bar on stderr; ``extra_columns`` go after the count (speed, loss...). Off a
    terminal, plain lines every ten seconds instead (see ``LoggedProgress``); none when quiet."""
    if not quiet and not stderr.is_terminal:
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
        disable=quiet or not stderr.is_terminal,
        transient=False,
    )


def log(message: str) -> None:
    """A status line for people, on stderr so that stdout stays parseable."""
    stderr.print(message, highlight=False)


class _RateColumn(ProgressColumn):
    """Samples per second, from rich's own moving estimate."""

    def render(self, task) -> Text:  # noqa: ANN001
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "…/s", style="cyan")


def rate_column() -> ProgressColumn:
    return _RateColumn()
