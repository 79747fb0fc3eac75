"""SIGTERM handled like Ctrl-C, importable before anything else (no third-party import)."""

from __future__ import annotations

import signal


class Terminated(KeyboardInterrupt):  # noqa: N818 - raised like Ctrl-C, so that every cleanup runs
    """SIGTERM (what torchrun, SLURM, Kubernetes and docker send): stopped like Ctrl-C, exit 143."""


def terminate_like_ctrl_c() -> None:
    """From now on SIGTERM unwinds like Ctrl-C: temporary files are removed, finished chunks kept."""

    def stop(signum, frame) -> None:  # noqa: ANN001, ARG001 - signal's signature
        raise Terminated()

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (an embedding host program): leave its handler alone
        pass
