"""Parquet files, folders of Parquet shards, and `datasets.save_to_disk` folders (Arrow), via pyarrow.

Labels are read up front (one column); samples are read when asked for: Parquet a row group at a
time (the last few kept), Arrow memory-mapped, so a large source never sits in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import weakref
from pathlib import Path

from stitchcli.data.fingerprint_cache import cached_fingerprint
from stitchcli.data.registry import (
    Dataset,
    DatasetSource,
    ReadOptions,
    default_split,
    encode_labels,
    reads_labels,
    refuse_repeated_columns,
    register_source,
    unlabelled,
)
from stitchcli.errors import StitchError

HASH_BLOCK = 1 << 22


def _pyarrow():
    try:
        import pyarrow  # noqa: F401
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        raise StitchError("Parquet and Arrow datasets need pyarrow",
                          hint="pip install 'stitchcli[parquet]'") from None
    return pyarrow


def _files(source: str) -> tuple[list[Path], str]:
    """The data files of a source and their format (``parquet`` or ``arrow``)."""
    path = Path(source)
    if path.is_file() and path.suffix.lower() == ".parquet":
        return [path], "parquet"
    if path.is_dir():
        parquet = sorted(p for p in path.iterdir() if p.suffix.lower() == ".parquet" and p.is_file())
        if parquet:
            return parquet, "parquet"
        if (path / "state.json").is_file():  # datasets.save_to_disk
            try:
                state = json.loads((path / "state.json").read_text(encoding="utf-8"))
                names = [entry["filename"] for entry in state.get("_data_files", [])]
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise StitchError(f"{path / 'state.json'} is not a `datasets.save_to_disk` state file "
                                  f"({type(exc).__name__}: {exc})") from None
            if not all(isinstance(name, str) for name in names):
                raise StitchError(f"{path / 'state.json'} names data files that are not file names")
            return [path / name for name in names], "arrow"
    raise StitchError(f"dataset not found: {source}")


def _fingerprint(files: list[Path]) -> str:
    """Every file's name and bytes, hashed in 4 MB blocks: a changed file never passes for the same."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\x00")
        with file.open("rb") as handle:
            while block := handle.read(HASH_BLOCK):
                digest.update(block)
    return digest.hexdigest()[:16]


_OPEN: weakref.WeakSet = weakref.WeakSet()  # every _Rows, so forked workers reopen their files
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: [rows.forget_open_files() for rows in list(_OPEN)])

CACHED_PARTS = 4  # row groups kept decoded: a chunk of rows can straddle two, DataLoader workers read ahead


class _Rows:
    """Random access to rows of several files. Parquet: a row group at a time, the last
    ``CACHED_PARTS`` kept. Arrow (save_to_disk): memory-mapped, so rows are read without copying
    and pages come in as they are touched."""

    def __init__(self, files: list, kind: str, open_file=None) -> None:
        pa = _pyarrow()
        self.parts: list[tuple[Path, int, int]] = []  # (file, part index, rows in it)
        self.kind, self.files = kind, files
        self.open_file = open_file  # for files on an fsspec filesystem (hub streaming)
        self.cache: dict[tuple[Path, int, str], list] = {}
        self.tables: dict[Path, object] = {}
        self.parquet: dict = {}
        _OPEN.add(self)
        for file in files:
            if kind == "parquet":
                meta = self.parquet_file(file).metadata
                self.parts += [(file, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)]
            else:
                batches = pa.ipc.open_stream(pa.memory_map(str(file))).read_all().to_batches()
                self.tables[file] = batches
                self.parts += [(file, b, batch.num_rows) for b, batch in enumerate(batches)]
        self.starts = []
        total = 0
        for _, _, rows in self.parts:
            self.starts.append(total)
            total += rows
        self.total = total

    def parquet_file(self, file):
        """The open ``ParquetFile`` (its footer read once; a remote file stays open)."""
        if file not in self.parquet:
            source = self.open_file(file) if self.open_file else file
            self.parquet[file] = _pyarrow().parquet.ParquetFile(source)
        return self.parquet[file]

    def schema(self):
        """The first file's schema (columns, and Hugging Face's ClassLabel names if any)."""
        if self.kind == "parquet":
            return self.parquet_file(self.files[0]).schema_arrow
        with _pyarrow().memory_map(str(self.files[0])) as source:
            return _pyarrow().ipc.open_stream(source).schema

    def _read(self, file: Path, part: int, column: str) -> list:
        """One Parquet row group's values of ``column``."""
        return self.parquet_file(file).read_row_group(part, columns=[column]).column(0).to_pylist()

    def __getstate__(self) -> dict:  # DataLoader workers reopen files themselves
        return {**self.__dict__, "parquet": {}, "cache": {}}

    def forget_open_files(self) -> None:
        """Drop open files: a forked DataLoader worker must not share the parent's (an fsspec HTTP
        file of `hf: --streaming` holds a session and threads that do not survive a fork)."""
        self.parquet, self.cache = {}, {}

    def column(self, column: str) -> list:
        if self.kind == "arrow":
            return [value for file, part, _ in self.parts
                    for value in self.tables[file][part].column(column).to_pylist()]
        return [value for file, part, _ in self.parts for value in self._read(file, part, column)]

    def value(self, index: int, column: str):
        import bisect

        p = bisect.bisect_right(self.starts, index) - 1
        file, part, _ = self.parts[p]
        if self.kind == "arrow":
            return self.tables[file][part].column(column)[index - self.starts[p]].as_py()
        key = (file, part, column)
        if key not in self.cache:
            if len(self.cache) >= CACHED_PARTS:
                self.cache.pop(next(iter(self.cache)))  # the oldest
            self.cache[key] = self._read(file, part, column)
        return self.cache[key][index - self.starts[p]]


def _class_names(schema, column: str) -> list[str] | None:
    """ClassLabel names that Hugging Face datasets keep in the schema metadata, if any."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if not raw:
        return None
    feature = json.loads(raw).get("info", {}).get("features", {}).get(column, {})
    return feature.get("names") if feature.get("_type") == "ClassLabel" else None


def _image(value):
    from PIL import Image

    data = value.get("bytes") if isinstance(value, dict) else value
    if not isinstance(data, bytes | bytearray):
        raise StitchError("an image cell holds no encoded image bytes")
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image


def load_arrow(source: str, options: ReadOptions) -> Dataset:
    files, kind = _files(source)
    return dataset_from_files(source, files, kind, options,
                              lambda: cached_fingerprint(kind, files, lambda: _fingerprint(files)))


def dataset_from_files(source: str, files: list, kind: str, options: ReadOptions, fingerprint,
                       open_file=None) -> Dataset:
    """A dataset over Parquet or Arrow ``files`` (paths, or names that ``open_file`` opens):
    labels read up front (one column), samples when asked for. ``fingerprint()`` is called only
    once the columns are known to be right."""
    if not files:
        raise StitchError(f"dataset {source} holds no data files")
    rows = _Rows(files, kind, open_file)
    schema = rows.schema()
    columns = schema.names
    refuse_repeated_columns(columns, f"dataset {source}")
    labelled = reads_labels(options, columns, f"dataset {source}")
    sample_column = next((c for c in (options.text_column, options.image_column) if c in columns), None)
    if sample_column is None:
        raise StitchError(f"dataset {source} has neither a {options.text_column!r} nor an "
                          f"{options.image_column!r} column (columns: {', '.join(columns)})",
                          hint="choose them with --text-column or --image-column.")
    if not labelled:
        labels, label_names = unlabelled(rows.total)
    elif (names := _class_names(schema, options.label_column)) is not None:
        labels, label_names = [int(v) for v in rows.column(options.label_column)], list(names)
    else:
        labels, label_names = encode_labels(rows.column(options.label_column), source)
    image = sample_column == options.image_column
    if not image:
        _check_text_type(schema, sample_column, source)

    def read(i: int):
        value = rows.value(i, sample_column)
        if image:
            return _image(value)
        if not isinstance(value, str):
            raise StitchError(f"dataset {source} row {i} has no value in text column {sample_column!r}")
        return value

    def raw(i: int) -> bytes:
        value = rows.value(i, sample_column)
        return value.get("bytes") if isinstance(value, dict) else value

    return Dataset(
        source=source, split=options.split or default_split(source.rstrip("/")),
        modality="image" if image else "text", labels=labels, label_names=label_names,
        fingerprint=fingerprint(), get_sample=read, get_raw=raw if image else None,
        get_column=lambda name, flag: _checked_column(rows, columns, name, source, flag),
    )


def _check_text_type(schema, column: str, source: str) -> None:
    """A text column holds strings: numbers, lists or structs would be embedded as their repr."""
    pa = _pyarrow()
    kind = schema.field(column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or str(kind) == "string_view"):
        raise StitchError(f"dataset {source}: text column {column!r} holds {kind} values, not strings",
                          hint="text values must be strings; cast the column, or choose another "
                          "with --text-column.")


def _checked_column(rows: _Rows, columns: list[str], name: str, source: str, flag: str) -> list:
    if name not in columns:
        raise StitchError(f"dataset {source} has no column {name!r} (columns: {', '.join(columns)})",
                          hint=f"choose one with {flag}.")
    return rows.column(name)


def _matches(source: str) -> bool:
    if source.startswith("hf:"):
        return False
    path = Path(source)
    if path.suffix.lower() == ".parquet":
        return True
    return path.is_dir() and (any(p.suffix.lower() == ".parquet" for p in path.iterdir())
                              or (path / "state.json").is_file())


register_source(DatasetSource(
    name="parquet",
    description="a .parquet file, a folder of .parquet shards, or a datasets.save_to_disk folder "
    "(needs stitchcli[parquet])",
    matches=_matches, load=load_arrow,
))
