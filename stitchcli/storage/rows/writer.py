"""A safetensors file written a block of rows at a time: header first, rows at their offsets, then renamed."""

from __future__ import annotations

import json
import math
import os
from contextlib import ExitStack
from pathlib import Path

import torch

from stitchcli.errors import StitchError
from stitchcli.storage.locks import output_lock
from stitchcli.storage.plain import atomic_path, check_writable, header_metadata, own_metadata
from stitchcli.storage.rows.reader import ROW_TENSORS, TORCH_DTYPES, open_rows

SAFETENSORS_DTYPES = {dtype: name for name, dtype in TORCH_DTYPES.items()}


class RowWriter:
    """Writes ``path`` (atomically) holding ``columns`` {name: (dtype, shape)} and string ``metadata``.

    The header is written first, since every shape is known up front; ``write(name, start, rows)``
    then puts rows at their place in the file, in any order, so a file of any size is assembled
    with only one block in memory. On leaving the ``with`` block the file is renamed into place if
    every row of every tensor was written, and removed otherwise (the old file stays untouched).
    """

    def __init__(self, path: Path, kind: str, columns: dict[str, tuple[torch.dtype, tuple[int, ...]]],
                 metadata: dict) -> None:
        self.path = check_writable(Path(path))
        self.columns = {name: (dtype, tuple(int(d) for d in shape))
                        for name, (dtype, shape) in columns.items()}
        header: dict = {"__metadata__": header_metadata(kind, metadata)}
        self._offsets: dict[str, int] = {}
        self._row_bytes: dict[str, int] = {}
        self._written = dict.fromkeys(self.columns, 0)
        offset = 0
        for name in sorted(self.columns):
            dtype, shape = self.columns[name]
            if dtype not in SAFETENSORS_DTYPES:
                raise StitchError(f"cannot write a {dtype} tensor ({name})")
            itemsize = torch.empty((), dtype=dtype).element_size()
            size = math.prod(shape) * itemsize
            self._row_bytes[name] = math.prod(shape[1:]) * itemsize if shape else size
            header[name] = {"dtype": SAFETENSORS_DTYPES[dtype], "shape": list(shape),
                            "data_offsets": [offset, offset + size]}
            self._offsets[name] = offset
            offset += size
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)  # safetensors aligns the data to 8 bytes
        self._header = len(raw).to_bytes(8, "little") + raw
        self._data_start = len(self._header)
        self._total = offset
        self._stack = ExitStack()
        self._fd: int | None = None

    def __enter__(self) -> RowWriter:
        self._stack.enter_context(output_lock(self.path))  # one writer per output (re-entrant)
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        self._stack.callback(os.close, self._fd)
        _write_all(self._fd, self._header, 0)
        os.ftruncate(self._fd, self._data_start + self._total)
        return self

    def write(self, name: str, start: int, rows: torch.Tensor) -> None:
        """Rows ``start .. start + len(rows)`` of tensor ``name`` (the whole tensor if it has no rows)."""
        dtype, shape = self.columns[name]
        rows = rows.detach().to("cpu", dtype).contiguous()
        if tuple(rows.shape[1:]) != shape[1:] or start < 0 or start + len(rows) > (shape[0] if shape else 1):
            raise StitchError(f"rows {start}..{start + len(rows)} of shape {tuple(rows.shape)} do not fit "
                              f"{name} {shape}")
        if rows.numel():
            data = memoryview(rows.view(-1).view(torch.uint8).numpy())
            _write_all(self._fd, data, self._data_start + self._offsets[name] + start * self._row_bytes[name])
        self._written[name] += len(rows) if shape else 1

    def __exit__(self, kind, value, traceback) -> bool:
        if kind is None:
            missing = [name for name, (_, shape) in self.columns.items()
                       if self._written[name] != (shape[0] if shape else 1)]
            if missing:
                error = StitchError(f"internal error: {', '.join(missing)} not completely written "
                                    f"to {self.path}")
                self._stack.__exit__(StitchError, error, None)  # removes the temporary file
                raise error
        return self._stack.__exit__(kind, value, traceback)


def _write_all(fd: int, data, offset: int) -> None:
    view = memoryview(data).cast("B")
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


def copy_rows(reader, writer: RowWriter, names, block_rows: int) -> None:
    """Copy row tensors ``names`` from a ``RowReader`` into ``writer``, a block at a time."""
    for name in names:
        for start, block in reader.blocks(name, block_rows):
            writer.write(name, start, block)


def concat_shards(index: Path, out: Path, block_rows: int = 65_536) -> dict[str, str]:
    """Write every shard of ``index`` joined into the plain file ``out``, a block of rows at a time."""
    reader = open_rows(index)
    metadata = own_metadata(reader.metadata)
    columns = {name: (TORCH_DTYPES[spec.dtype], spec.shape) for name, spec in reader.specs.items()}
    with RowWriter(out, "embeddings", columns, metadata) as writer:
        copy_rows(reader, writer, [name for name in columns if name in ROW_TENSORS], block_rows)
        for name in columns:
            if name not in ROW_TENSORS:
                writer.write(name, 0, reader.read(name))
    return metadata
