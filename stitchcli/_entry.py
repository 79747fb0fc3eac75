"""The `stitch` console script: SIGTERM and Ctrl-C are handled from the first moment, even while the
CLI itself is being imported (a kill then ends in one line, exit 143 or 130, never a traceback)."""

from __future__ import annotations

import sys

from stitchcli._signals import Terminated, terminate_like_ctrl_c


def main() -> None:
    terminate_like_ctrl_c()
    try:
        from stitchcli.cli import main as cli_main
    except KeyboardInterrupt as exc:  # stopped while starting: nothing was written yet
        stopped = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
        print(f"Interrupted: stopped by {stopped} while starting.", file=sys.stderr)
        sys.exit(143 if isinstance(exc, Terminated) else 130)
    cli_main()
