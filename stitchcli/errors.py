"""User-facing errors: one ``Error:`` line on stderr, an optional hint, exit code 1."""

from __future__ import annotations

import sys

from stitchcli._signals import Terminated, terminate_like_ctrl_c  # noqa: F401 - re-exported

try:  # typer >= 0.29 vendors click and handles only its own exception classes
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer on top of click
    from click import ClickException


LONGEST = 1000  # characters of one message shown; the rest is elided


def printable(text: str, limit: int = LONGEST) -> str:
    """``text`` safe for a terminal: control characters escaped (``\\x1b``, ``\\n``), cut to ``limit``."""
    out = "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                  for ch in str(text))
    return out if len(out) <= limit else out[: limit - 20] + f"… ({len(out):,} characters)"


class StitchError(ClickException):
    """A mistake the user can fix; shown as one line without a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        # Newlines would break the one-line contract that scripts grep for; control characters
        # (a file's metadata may hold ANSI escapes) are shown escaped, very long values shortened.
        super().__init__(printable(" ".join(str(message).split())))
        self.hint = None if hint is None else printable(" ".join(str(hint).split()))

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        stream = file or sys.stderr
        print(f"Error: {self.format_message()}", file=stream)
        if self.hint:
            print(f"Hint: {self.hint}", file=stream)


class IncompatibleError(StitchError):
    """Two files that cannot be used together (other anchors, labels, dimension...)."""


class Interrupted(ClickException):
    """Ctrl-C: a one-line message saying how to resume, exit code 130."""

    exit_code = 130

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:  # noqa: ANN001
        print(f"Interrupted: {self.format_message()}", file=file or sys.stderr)


class UsageError(StitchError):
    """A bad option value caught by our own parsing: one line, exit code 2 like click's."""

    exit_code = 2
