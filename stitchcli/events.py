"""How the core reports progress, status lines and warnings: through the current ``Reporter``, never print.

The core calls ``log``, ``warn`` and ``progress`` below; they go to the reporter installed for the
current context (``use``), silent by default, so the Python API prints nothing unless asked. The CLI
installs a rich-backed one (``stitchcli.console.ConsoleReporter``); a test or a notebook installs its
own::

    class Lines(Reporter):
        def log(self, message): print(message)

    with events.use(Lines()):
        run_embed(request)

Only the standard library is imported here (no torch, rich or typer).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Progress:
    """A handle on one task's progress (``Reporter.progress``); this one shows nothing."""

    def advance(self, n: float = 1, description: str | None = None) -> None:
        """``n`` more steps done; ``description`` replaces the task's (epoch and loss of a bar)."""

    def close(self) -> None:
        """The task is over (finished or not); further calls do nothing."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Reporter:
    """Where the core's progress, status lines and warnings go. This base class is silent, except that
    warnings reach the standard ``logging`` module (logger ``stitchcli``); subclass what you need."""

    def log(self, message: str) -> None:
        """A status line for people (plain text): a file written, reused, resumed."""

    def warn(self, message: str) -> None:
        """Something the user should know even when quiet (plain text, no ``warning:`` prefix)."""
        logging.getLogger("stitchcli").warning(message)

    def progress(self, description: str, total: float | None = None, *, completed: float = 0,
                 rate: bool = False) -> Progress:
        """A task of ``total`` steps (``completed`` of them done already, e.g. resumed); ``rate``: its
        speed is worth showing (samples per second)."""
        return Progress()


class _WarningsOnly(Reporter):
    """Another reporter's warnings, without its progress and status lines."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner

    def warn(self, message: str) -> None:
        self.inner.warn(message)


SILENT = Reporter()
_CURRENT: ContextVar[Reporter] = ContextVar("stitchcli_reporter", default=SILENT)


def current() -> Reporter:
    """The reporter of this context (thread, task): ``SILENT`` unless one was installed."""
    return _CURRENT.get()


def install(reporter: Reporter) -> None:
    """Make ``reporter`` the current one until the enclosing ``use`` block ends (or for good)."""
    _CURRENT.set(reporter)


@contextmanager
def use(reporter: Reporter) -> Iterator[Reporter]:
    """``reporter`` is the current one inside the block; the previous one is back after it, even if
    ``install`` was called inside."""
    token = _CURRENT.set(reporter)
    try:
        yield reporter
    finally:
        _CURRENT.reset(token)


@contextmanager
def quietly() -> Iterator[Reporter]:
    """Progress and status lines of the block are dropped; warnings still reach the current reporter
    (a sweep's hundreds of heads train without a bar each)."""
    with use(_WarningsOnly(current())) as reporter:
        yield reporter


def log(message: str) -> None:
    """A status line, to the current reporter."""
    current().log(message)


def warn(message: str) -> None:
    """A warning, to the current reporter."""
    current().warn(message)


def progress(description: str, total: float | None = None, *, completed: float = 0,
             rate: bool = False) -> Progress:
    """A progress handle from the current reporter (use it in a ``with`` block)."""
    return current().progress(description, total, completed=completed, rate=rate)
