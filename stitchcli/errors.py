"""User-facing errors as plain exceptions: one line, an optional hint, an exit code (shown by the CLI)."""

from __future__ import annotations

from stitchcli._signals import Terminated, terminate_like_ctrl_c  # noqa: F401 - re-exported

LONGEST = 1000  # characters of one message shown; the rest is elided


def printable(text: str, limit: int = LONGEST) -> str:
    """``text`` safe for a terminal: control characters escaped (``\\x1b``, ``\\n``), cut to ``limit``."""
    out = "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                  for ch in str(text))
    return out if len(out) <= limit else out[: limit - 20] + f"… ({len(out):,} characters)"


def one_line(text: object) -> str:
    """``text`` on one line (newlines would break the contract scripts grep for), printable."""
    return printable(" ".join(str(text).split()))


class StitchError(Exception):
    """A mistake the user can fix: ``message`` is one line, ``hint`` says what to do; the CLI prints
    ``Error: message`` (and ``Hint: hint``) on stderr without a traceback and exits ``exit_code``."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        # Control characters (a file's metadata may hold ANSI escapes) are shown escaped, very long
        # values shortened.
        self.message = one_line(message)
        self.hint = None if hint is None else one_line(hint)
        super().__init__(self.message)

    def format_message(self) -> str:
        """The one-line message (as click's exceptions name it)."""
        return self.message

    def __str__(self) -> str:
        return self.message


class IncompatibleError(StitchError):
    """Two files that cannot be used together (other anchors, labels, dimension...)."""


class UsageError(StitchError):
    """A bad option value caught by our own parsing: one line, exit code 2 like click's."""

    exit_code = 2


class Interrupted(Exception):  # noqa: N818 - a stop, not a failure
    """Ctrl-C or SIGTERM: a one-line message saying how to resume, exit code 130 (143 for SIGTERM)."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        self.message = one_line(message)
        self.hint = None
        self.exit_code = exit_code
        super().__init__(self.message)

    def format_message(self) -> str:
        return self.message

    def __str__(self) -> str:
        return self.message
