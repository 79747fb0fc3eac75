"""The one output sink of every command: tables and status lines for people, JSON for scripts, or quiet.

Data go to stdout (a table, or with ``--json`` JSON with one indentation), everything else to stderr
(status lines, progress, warnings). ``--quiet`` drops the status lines and progress, not the data. A
command makes one ``Output`` from its ``--json`` and ``--quiet`` flags; that also installs the core's
reporter for the rest of the command (``ConsoleReporter``: verbose for people, warnings only with
``--quiet`` or ``--json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from stitchcli import events

JSON_INDENT = 2  # every command's --json, and the evaluate.json file that `stitch run` writes


def dumps(value: object) -> str:
    """``value`` as every ``--json`` prints it."""
    return json.dumps(value, indent=JSON_INDENT)


class Output:
    """Where one command's results and messages go: ``json`` prints the data as JSON on stdout and no
    status lines or progress; ``quiet`` prints no status lines or progress (warnings and errors still
    reach stderr)."""

    def __init__(self, json_output: bool = False, quiet: bool = False) -> None:
        from stitchcli.console import ConsoleReporter

        self.json = json_output
        self.quiet = quiet
        self.reporter = ConsoleReporter(verbose=self.for_people)
        # Until the command ends: the CLI's ``events.use`` block around every command restores the last.
        events.install(self.reporter)

    @property
    def for_people(self) -> bool:
        """Status lines and progress are shown (neither --json nor --quiet)."""
        return not self.json and not self.quiet

    def log(self, message: str) -> None:
        """A status line for people on stderr (rich markup: values from files go through ``safe``)."""
        if self.for_people:
            from stitchcli.console import log

            log(message)

    def warn(self, message: str) -> None:
        """A line on stderr in every mode (a skipped pair, a failed threshold); rich markup."""
        from stitchcli.console import log

        log(message)

    def table(self, renderable) -> None:  # noqa: ANN001 - anything rich prints
        """A table (or any rich renderable) on stdout: the data, unless they are shown as JSON."""
        if not self.json:
            from stitchcli.console import stdout

            stdout.print(renderable)

    def data(self, value: object) -> None:
        """``value`` as JSON on stdout (the ``--json`` schema), whatever the mode."""
        print(dumps(value), flush=True)

    def result(self, value: object, line: str | Callable[[], str] | None = None,
               table: Callable[[], object] | None = None) -> None:
        """A command's result: ``value`` as JSON with --json, else its ``table`` on stdout and its status
        ``line`` on stderr (not when quiet); callables are only called when shown."""
        if self.json:
            self.data(value)
            return
        if table is not None:
            self.table(table())
        if line is not None and self.for_people:
            self.log(line() if callable(line) else line)

    def progress(self, description: str, total: float | None = None, **kwargs) -> events.Progress:
        """A progress handle on stderr (nothing with --json or --quiet)."""
        return self.reporter.progress(description, total, **kwargs)
