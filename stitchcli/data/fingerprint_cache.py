"""Source fingerprints remembered by the files' stat, so an unchanged folder is not read again."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# A file's content cannot change without its ctime changing (and ctime cannot be set by hand), so
# (size, mtime, ctime, inode, device) of every file identifies the bytes that were hashed. Files
# touched in the last few seconds are not trusted yet (a write in the same clock tick would not
# show), as git does with "racily clean" entries.
RACY_SECONDS = 3.0
VERSION = "1"


def cache_dir() -> Path:
    """``$STITCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/stitchcli``, else ``~/.cache/stitchcli``."""
    if os.environ.get("STITCH_CACHE_DIR"):
        return Path(os.environ["STITCH_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stitchcli"


def stat_key(kind: str, files: Sequence[Path]) -> tuple[str, bool]:
    """A key for the files as they are now, and whether it can be trusted (no file just changed)."""
    digest = hashlib.sha256(f"{VERSION}\0{kind}\0".encode())
    newest = 0
    for file in files:
        info = os.stat(file)
        newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
        digest.update(f"{Path(file).resolve()}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0"
                      f"{info.st_ino}\0{info.st_dev}\n".encode())
    return digest.hexdigest(), time.time_ns() - newest > RACY_SECONDS * 1e9


def cached_fingerprint(kind: str, files: Sequence[Path], compute: Callable[[], str]) -> str:
    """``compute()`` (which reads every byte), or its remembered result when no file changed since.
    Any trouble with the cache (read-only home, a locked or damaged database) just computes."""
    key, trusted = stat_key(kind, files)
    database = cache_dir() / "fingerprints.sqlite"
    try:
        with sqlite3.connect(database, timeout=10) as db:
            row = db.execute("SELECT fingerprint FROM sources WHERE key = ?", (key,)).fetchone()
            if row:
                return row[0]
    except sqlite3.Error:
        pass
    value = compute()
    if trusted:
        try:
            database.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(database, timeout=10) as db:
                db.execute("CREATE TABLE IF NOT EXISTS sources (key TEXT PRIMARY KEY, fingerprint TEXT)")
                db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (key, value))
        except (sqlite3.Error, OSError):
            pass
    return value
