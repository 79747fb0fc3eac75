"""Shared rich consoles and progress bars: data on stdout, progress and logs on stderr."""

from __future__ import annotations

import os
import sys

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


def progress(*extra_columns, quiet: bool = False) -> Progress:
    """A progress bar on stderr; ``extra_columns`` go after the count (speed, loss...)."""
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
