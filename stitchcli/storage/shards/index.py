"""The index of a sharded embeddings file: written once all shards exist, checked on every read."""

from __future__ import annotations

import json
from pathlib import Path

from stitchcli.errors import StitchError
from stitchcli.storage.files import Header, open_file
from stitchcli.storage.plain import article, atomic_path, inspect_file, kind_hint
from stitchcli.storage.shards.plan import Shard, index_path, recorded_shard, shard_files

FORMAT = "stitchcli-shards"
SHARD_KEYS = ("shard", "shard_rows", "output_key", "num_samples")  # per shard, not of the whole


def _shard_of(path: Path, meta: dict[str, str]) -> tuple[Shard, list[int]]:
    try:
        shard, start, stop = recorded_shard(meta["shard"], meta["shard_rows"])
        return shard, [start, stop]
    except (KeyError, ValueError, TypeError) as exc:
        raise StitchError(f"{path} is not a shard of a sharded embed (no shard metadata: {exc})") from None


def write_index(out: Path) -> Path:
    """Check the shards beside ``out`` (all there, once each, one run, rows covering 0..N) and write
    ``out.index.json``. Nothing is written when a check fails."""
    out = Path(out)
    files = shard_files(out)
    if not files:
        raise StitchError(f"no shards of {out} found (expected {Shard(0, 1).path(out).name}-style files)")
    shards = []
    for path in files:
        meta = inspect_file(path, "embeddings").metadata
        shard, rows = _shard_of(path, meta)
        shards.append((shard, rows, path, meta))
    count = shards[0][0].count
    runs = {meta.get("shard_run") for *_, meta in shards}
    if len(runs) > 1 or any(shard.count != count for shard, *_ in shards):
        raise StitchError(f"the shards of {out} come from different runs "
                          f"({', '.join(p.name for _, _, p, _ in shards)})",
                          hint="delete the stale shards and embed them again with the same options.")
    present = {shard.index for shard, *_ in shards}
    missing = [Shard(i, count).path(out).name for i in range(count) if i not in present]
    if missing:
        raise StitchError(f"{len(missing)} of the {count} shards of {out} are missing: "
                          f"{', '.join(missing[:5])}",
                          hint="run the missing shards (same command with their --shard), then merge.")
    shards.sort(key=lambda item: item[0].index)
    expected = 0
    for _, rows, path, _ in shards:
        if rows[0] != expected:
            raise StitchError(f"{path} covers rows {rows[0]}..{rows[1]}, but rows from {expected} "
                              "were expected")
        expected = rows[1]
    first = shards[0][3]
    index = {
        "format": FORMAT, "run": first.get("shard_run"), "count": count, "num_samples": expected,
        "metadata": {k: v for k, v in first.items() if k not in SHARD_KEYS and not k.startswith("shard")},
        "shards": [{"file": path.name, "rows": rows, "num_samples": rows[1] - rows[0],
                    "output_key": meta.get("output_key")} for _, rows, path, meta in shards],
    }
    target = index_path(out)
    with atomic_path(target, suffix=".json") as tmp:
        tmp.write_text(json.dumps(index, indent=2) + "\n")
    return target


def read_index(path: Path) -> tuple[dict, list[Path]]:
    """The index and its shard files, checked: every shard there, of this run, unchanged."""
    index, files, _ = read_index_headers(path)
    return index, files


def read_index_headers(path: Path, fds: list[int] | None = None) -> tuple[dict, list[Path], list[Header]]:
    """``read_index`` and every shard's header, each read once (the checks read them anyway). With
    ``fds`` (a list to fill) every shard is opened once and its header read through that descriptor,
    which the caller keeps for the rows: a shard replaced meanwhile is never read as a mix of two."""
    path = Path(path)
    if not path.exists():
        raise StitchError(f"file not found: {path}")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise ValueError("not a stitchcli shard index")
    except (ValueError, UnicodeDecodeError) as exc:
        raise StitchError(f"{path} is not a stitchcli shard index ({exc})") from None
    shards = _checked_entries(path, index)
    files = [path.parent / shard["file"] for shard in shards]
    headers = []
    for file, shard in zip(files, shards, strict=True):
        if not file.is_file():
            raise StitchError(f"shard {file} listed in {path} is missing")
        fd = open_file(file) if fds is not None else None
        if fd is not None:
            fds.append(fd)
        header = inspect_file(file, "embeddings", fd)
        meta = header.metadata
        if meta.get("shard_run") != index["run"] or meta.get("output_key") != shard.get("output_key"):
            raise StitchError(f"{file} was embedded again since {path} was written",
                              hint="run `stitch merge` again.")
        rows = next((spec.shape[0] for name, spec in header.tensors.items() if name in ROWS and spec.shape),
                    None)
        start, stop = shard["rows"]
        if rows != stop - start:
            raise StitchError(f"{path} says {file.name} holds rows {start}..{stop} ({stop - start}), but the "
                              f"file holds {rows}", hint="run `stitch merge` again.")
        headers.append(header)
    return index, files, headers


ROWS = ("embeddings", "labels", "indices", "relative")


def _checked_entries(path: Path, index: dict) -> list[dict]:
    """The index's shard entries, each checked field by field: plain file names inside the index's
    folder, once each, row ranges contiguous from 0 to ``num_samples``."""
    shards, total = index.get("shards"), index.get("num_samples")
    if not isinstance(shards, list) or not shards:
        raise StitchError(f"{path}: 'shards' must be a non-empty list")
    if not _count(total):
        raise StitchError(f"{path}: 'num_samples' must be a whole number, got {total!r}")
    if not isinstance(index.get("run"), str) or not isinstance(index.get("metadata"), dict):
        raise StitchError(f"{path}: 'run' must be a string and 'metadata' an object")
    expected, names = 0, set()
    for number, shard in enumerate(shards):
        where = f"{path}: shard entry {number}"
        if not isinstance(shard, dict):
            raise StitchError(f"{where} is not an object")
        name, rows = shard.get("file"), shard.get("rows")
        if not isinstance(name, str) or not name or name in (".", "..") or Path(name).name != name \
                or "\\" in name:
            raise StitchError(f"{where}: 'file' must be a plain file name beside the index, got {name!r}",
                              hint="an index only lists shards in its own folder.")
        if name in names:
            raise StitchError(f"{where}: {name} is listed twice")
        names.add(name)
        if not (isinstance(rows, list) and len(rows) == 2 and all(map(_count, rows)) and rows[0] == expected
                and rows[1] > rows[0]):
            raise StitchError(f"{where}: 'rows' must be [{expected}, end > {expected}], got {rows!r}",
                              hint="shards cover 0..num_samples in order, without gaps or overlaps.")
        expected = rows[1]
    if expected != total:
        raise StitchError(f"{path}: the shards cover rows 0..{expected} but 'num_samples' says {total}")
    return shards


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def index_header(path: Path, kind: str | None) -> Header:
    """A shard index as one embeddings file's header: the run's metadata, the shards' row counts."""
    check_index_kind(path, kind)
    index, _, headers = read_index_headers(path)
    return joined_header(index, headers)


def check_index_kind(path: Path, kind: str | None) -> None:
    """A shard index holds embeddings: refuse it where another kind of file is expected."""
    if kind is not None and kind != "embeddings":
        raise StitchError(f"{path} is a shard index of embeddings, expected {article(kind)} {kind} file",
                          hint=kind_hint(kind))


def joined_header(index: dict, headers: list[Header]) -> Header:
    """The header of the file the shards make up: the run's metadata, rows of every shard."""
    from dataclasses import replace

    first = headers[0]
    rows = {"embeddings", "labels", "indices", "relative"}
    tensors = {name: replace(spec, shape=(index["num_samples"], *spec.shape[1:])) if name in rows else spec
               for name, spec in first.tensors.items()}
    return Header({**index["metadata"], "num_samples": str(index["num_samples"])}, tensors)
