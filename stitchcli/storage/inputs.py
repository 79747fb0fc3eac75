"""Outputs that would destroy an input, refused in one line before any work: the same file under any
spelling (relative or absolute, a symlink, a hard link), a shard of an input index, a file inside a
folder input (an image folder), or an input inside an output folder that a run replaces whole.

No torch: commands call it with their other up-front checks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from stitchcli.errors import StitchError

HINT = "give another --out (a command never writes over one of its inputs)."

Inputs = Mapping[str, "str | os.PathLike | Iterable[str | os.PathLike] | None"]


def refuse_overwrite(out, inputs: Inputs, what: str = "--out", folder: bool = False,
                     hint: str = HINT) -> None:
    """Refuse, in one ``StitchError`` line, when ``out`` (a path, or several a command writes) is one
    of ``inputs`` (``{"--dataset": path, ...}``; a value may be a list, None, or a source string
    that is no local path, such as ``hf:...``, which is skipped). With ``folder``, ``out`` is a
    folder the command replaces whole, so no input may lie inside it either."""
    outputs = [Path(o) for o in _as_list(out)]
    for name, value in inputs.items():
        for given in _as_list(value):
            source = Path(given)
            if not _exists(source):
                continue
            for output in outputs:
                _check_one(output, what, name, source, folder, hint)


def _check_one(output: Path, what: str, name: str, source: Path, folder: bool, hint: str) -> None:
    for file in (source, *_shards_of(source)):
        if _same(output, file):
            spelled = "" if str(file) == str(source) else f" (a shard of {source})"
            raise StitchError(f"{what} {output} is the same file as {name} {file}{spelled}: writing it "
                              "would destroy that input", hint=hint)
    if source.is_dir() and _inside(output, source):
        raise StitchError(f"{what} {output} is inside {name} {source}, a folder this command reads: "
                          "writing there would change that input", hint=hint)
    if folder and _inside(source, output):
        raise StitchError(f"{name} {source} is inside {what} {output}, a folder this command replaces "
                          "whole: writing it would destroy that input", hint=hint)


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return [v for v in value if v is not None]


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long, a NUL byte: no local input
        return False


def _same(output: Path, file: Path) -> bool:
    """Whether writing ``output`` would write ``file``: one inode (a hard link, a symlink either way,
    another spelling), or the same resolved path."""
    try:
        if output.exists() and os.path.samefile(output, file):
            return True
    except OSError:
        pass
    return os.path.realpath(output) == os.path.realpath(file)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (links resolved)."""
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _shards_of(path: Path) -> list[Path]:
    """The shard files a shard index lists (read loosely: a broken index is refused by its reader)."""
    from stitchcli.storage.shards.plan import is_index

    if not is_index(path) or not path.is_file():
        return []
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        names = [shard["file"] for shard in index.get("shards", []) if isinstance(shard.get("file"), str)]
    except (OSError, ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return []
    return [path.parent / Path(name).name for name in names if Path(name).name not in ("", ".", "..")]


def folder_files(folder: str | os.PathLike | None) -> list[Path]:
    """The files directly in ``folder`` (a local model folder: its weights and config are inputs)."""
    if folder is None or not Path(folder).is_dir():
        return []
    return [p for p in Path(folder).iterdir() if p.is_file()]
