"""Safetensors headers read without torch: metadata, tensor dtypes and shapes, checked like safetensors."""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from stitchcli.errors import StitchError

# A safetensors file is an 8-byte little-endian header length N, N bytes of JSON (tensor name ->
# dtype, shape, [start, end) byte offsets into the data that follows; "__metadata__" -> strings),
# then the data. Bits per element of each dtype the format knows:
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F4": 4, "F6_E2M3": 6,
    "F6_E3M2": 6, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
}
MAX_HEADER_BYTES = 100_000_000  # safetensors refuses larger headers too


@dataclass(frozen=True)
class TensorSpec:
    """One tensor as the header describes it: dtype name (``F32``...), shape and byte range."""

    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Header:
    """A safetensors file's string metadata and its tensors (sorted by name), read without torch."""

    metadata: dict[str, str]
    tensors: dict[str, TensorSpec]
    data_offset: int = 0  # where the tensors' bytes begin in the file (8 + the header's length)

    @property
    def kind(self) -> str | None:
        """The stitchcli file kind the metadata records (embeddings, anchors, head), if any."""
        return self.metadata.get("kind")


class _Invalid(ValueError):
    """What is wrong with a header (becomes the end of a one-line error)."""


def read_header(path: Path, fd: int | None = None) -> Header:
    """The header of a safetensors file, checked the way safetensors checks it when opening one:
    every tensor's byte range matches its dtype and shape, and the ranges tile the data exactly
    (so a truncated file is caught here). Reads the first 8 + N bytes only. With ``fd`` (the file,
    already open) the header comes from that descriptor: rows read through it later belong to the
    same file even if ``path`` is replaced meanwhile."""
    path = Path(path)
    if fd is None:
        if not path.exists():
            raise StitchError(f"file not found: {path}")
        if path.is_dir():
            raise StitchError(f"{path} is a directory, not a .safetensors file")
    try:
        if fd is None:
            with path.open("rb") as handle:
                return _header_of(handle.fileno())
        return _header_of(fd)
    except OSError as exc:
        raise StitchError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # _Invalid, bad JSON or UTF-8
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StitchError(
            f"{path} is not a valid safetensors file (truncated or corrupt?): {reason}"
        ) from exc


def open_file(path: Path) -> int:
    """A read-only descriptor of ``path`` (one line if it is missing or a folder)."""
    path = Path(path)
    if path.is_dir():
        raise StitchError(f"{path} is a directory, not a .safetensors file")
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise StitchError(f"file not found: {path}") from None
    except OSError as exc:
        raise StitchError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _header_of(fd: int) -> Header:
    size = os.fstat(fd).st_size
    prefix = os.pread(fd, 8, 0)
    if len(prefix) < 8:
        raise _Invalid(f"only {len(prefix)} bytes long")
    (length,) = struct.unpack("<Q", prefix)
    if length > MAX_HEADER_BYTES or 8 + length > size:
        raise _Invalid(f"header length {length} does not fit a file of {size} bytes")
    raw = os.pread(fd, length, 8)
    if len(raw) < length:
        raise _Invalid("the header ends early")
    return replace(_parse(raw, size - 8 - length), data_offset=8 + length)


def _parse(raw: bytes, data_bytes: int) -> Header:
    header = json.loads(raw.decode("utf-8"))
    if not isinstance(header, dict):
        raise _Invalid("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _Invalid("__metadata__ must map names to strings")
    tensors = {name: _tensor(name, entry) for name, entry in header.items()}
    offset = 0
    for name, spec in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if spec.start != offset:
            raise _Invalid(f"tensor {name!r} starts at byte {spec.start}, expected {offset}")
        offset = spec.end
    if offset != data_bytes:
        raise _Invalid(f"the tensors cover {offset} bytes of data but the file holds {data_bytes}")
    return Header(metadata=dict(metadata), tensors=dict(sorted(tensors.items())))


def _tensor(name: str, entry: object) -> TensorSpec:
    if not isinstance(entry, dict):
        raise _Invalid(f"tensor {name!r} is not described by an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in DTYPE_BITS:
        raise _Invalid(f"tensor {name!r} has unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_count(d) for d in shape):
        raise _Invalid(f"tensor {name!r} has shape {shape!r}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_count(o) for o in offsets):
        raise _Invalid(f"tensor {name!r} has data_offsets {offsets!r}")
    start, end = offsets
    bits = math.prod(shape) * DTYPE_BITS[dtype]
    if end < start or bits % 8 or bits // 8 != end - start:
        raise _Invalid(f"tensor {name!r}: {dtype} {shape} does not fill bytes [{start}, {end})")
    return TensorSpec(dtype=dtype, shape=tuple(shape), start=start, end=end)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
