"""Outputs are written by one process at a time: an advisory lock per output, and stale temporary
files (of writers that were killed) recognised by the pid in their name and removed."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stitchcli.errors import StitchError

_HELD: set[str] = set()  # the lock files this process holds


def lock_path(out: Path) -> Path:
    """``dir/emb.safetensors`` -> ``dir/.emb.safetensors.lock``."""
    out = Path(out)
    return out.with_name(f".{out.name}.lock")


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``) on ``out`` while the block runs: a second run
    writing the same output exits at once with one line naming the first. The lock file holds the
    holder's pid and is removed when released; a lock whose holder was killed is free (the kernel
    drops it), so nothing stale can block a rerun."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        yield
        return
    path = lock_path(out)
    key = str(path.resolve())
    if key in _HELD:  # this process holds it already (a job that locks, then a writer that locks)
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise StitchError(f"{out} is being written by another stitch process (pid {holder})",
                              hint="wait for it to finish, or give another output.") from None
        # The file may have been removed by the previous holder between our open and our lock:
        # then we hold a lock nobody else can see; start again on the file now at the path.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    _HELD.add(key)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        _HELD.discard(key)
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def temp_prefix(path: Path) -> str:
    """Temporary files of ``path`` are named ``.NAME.PID.RANDOM…``, so the next writer can tell stale
    ones (their writer is gone) from a live writer's."""
    return f".{Path(path).name}.{os.getpid()}."


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temporary files of ``path`` left by writers that no longer run (killed mid-write);
    a live writer's are kept. Returns what was removed."""
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[^/]+$")
    removed = []
    folder = path.parent if str(path.parent) else Path(".")
    try:
        candidates = list(folder.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if not match or int(match[1]) == os.getpid() or _alive(int(match[1])) or not candidate.is_file():
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True
