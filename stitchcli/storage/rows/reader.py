"""One way to read an embeddings file, plain or sharded: metadata, small tensors whole, rows by block."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from stitchcli.errors import StitchError
from stitchcli.storage.files import Header, TensorSpec, open_file
from stitchcli.storage.plain import StitchFile, inspect_file, json_metadata, missing_tensor
from stitchcli.storage.shards.index import check_index_kind, joined_header, read_index_headers
from stitchcli.storage.shards.plan import is_index

# Tensors with one row per sample; in a sharded file each shard holds its rows of them, while the
# others (anchor embeddings) are the same in every shard and read from the first.
ROW_TENSORS = ("embeddings", "labels", "indices", "relative")
TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
                "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}


@dataclass
class _Part:
    """One file of the whole: its rows ``start .. stop`` and where its tensors' bytes begin."""

    path: Path
    start: int
    stop: int
    tensors: dict[str, TensorSpec]
    data_offset: int
    _fd: int | None = None

    def fd(self) -> int:
        """The file, opened once (training reads a few rows per step from every shard)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


class RowReader:
    """An embeddings file (or shard index) read without loading it: ``read``/``blocks``/``take`` give
    rows of a tensor, straight from disk, so memory is bounded by the block asked for."""

    def __init__(self, path: Path, kind: str | None = "embeddings") -> None:
        self.path = Path(path)
        # Every file is opened once, its header read through that descriptor and its rows later through
        # the same one: a file replaced meanwhile (an atomic rename) is read wholly old, never mixed.
        fds: list[int] = []
        try:
            if is_index(self.path):
                check_index_kind(self.path, kind)
                index, files, headers = read_index_headers(self.path, fds)
                header = joined_header(index, headers)
                bounds = [shard["rows"] for shard in index["shards"]]
            else:
                fds.append(open_file(self.path))
                header = inspect_file(self.path, kind, fds[0])
                files, bounds, headers = [self.path], [[0, self._rows_of(header)]], [header]
            for file, (start, stop), part in zip(files, bounds, headers, strict=True):
                check_rows(file, part, stop - start)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        self.metadata = header.metadata
        self.kind = self.metadata.get("kind", kind)
        self.specs = header.tensors
        self.parts = [_Part(Path(file), start, stop, part.tensors, part.data_offset, fd)
                      for file, (start, stop), part, fd in zip(files, bounds, headers, fds, strict=True)]
        self.num_rows = bounds[-1][1] if bounds else 0

    @staticmethod
    def _rows_of(header: Header) -> int:
        for name in ROW_TENSORS:
            if name in header.tensors:
                return header.tensors[name].shape[0]
        return 0

    def has(self, name: str) -> bool:
        return name in self.specs

    def shape(self, name: str) -> tuple[int, ...]:
        self.check(name)
        return self.specs[name].shape

    def check(self, name: str) -> None:
        """A one-line error naming a tensor the file lacks (as ``StitchFile.require``)."""
        if name not in self.specs:
            raise missing_tensor(self.path, name)

    def meta_json(self, key: str, default=None):
        return json_metadata(self.metadata, key, default, self.path)

    def label_names(self) -> list[str]:
        """The file's class names, checked: a JSON list of strings."""
        names = self.meta_json("label_names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise StitchError(f"{self.path}: metadata 'label_names' must be a JSON list of strings")
        return names

    def labels(self) -> torch.Tensor:
        """Every row's class id, checked against ``label_names`` (an id outside them is named with its
        row, never read into another class or a wrong score)."""
        labels = self.read("labels").long()
        count = len(self.label_names())
        bad = ((labels < 0) | (labels >= count)).nonzero().flatten()
        if len(bad):
            row = int(bad[0])
            raise StitchError(f"{self.path}: label id {int(labels[row])} in row {row} is outside its "
                              f"{count} label_names", hint="the file is damaged; embed it again.")
        return labels

    def read(self, name: str, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Rows ``start .. stop`` of a row tensor, or the whole of another tensor."""
        self.check(name)
        if name not in ROW_TENSORS:
            return _read_rows(self.parts[0], name, 0, None)
        stop = self.num_rows if stop is None else min(stop, self.num_rows)
        pieces = [_read_rows(part, name, max(start, part.start) - part.start,
                             min(stop, part.stop) - part.start)
                  for part in self.parts if part.start < stop and part.stop > start]
        if len(pieces) == 1:
            return pieces[0]
        if not pieces:
            spec = self.specs[name]
            return torch.empty((0, *spec.shape[1:]), dtype=TORCH_DTYPES[spec.dtype])
        return torch.cat(pieces)

    def blocks(self, name: str, block_rows: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(first row, rows) of a row tensor, ``block_rows`` at a time, in order."""
        for start in range(0, self.num_rows, block_rows):
            yield start, self.read(name, start, start + block_rows)

    def take(self, name: str, positions) -> torch.Tensor:
        """Rows at ``positions`` (any order, repeats allowed), reading runs of neighbouring rows at once."""
        positions = torch.as_tensor(positions, dtype=torch.long)
        if len(positions) and (int(positions.min()) < 0 or int(positions.max()) >= self.num_rows):
            raise StitchError(f"row positions outside 0..{self.num_rows - 1} of {self.path}")
        order = positions.argsort()
        ordered = positions[order]
        spec = self.specs[name]
        out = torch.empty((len(positions), *spec.shape[1:]), dtype=TORCH_DTYPES[spec.dtype])
        breaks = ((ordered[1:] - ordered[:-1]) != 1).nonzero().flatten().add(1).tolist()
        for begin, end in zip([0, *breaks], [*breaks, len(ordered)], strict=True):
            if begin < end:
                first = int(ordered[begin])
                out[order[begin:end]] = self.read(name, first, first + end - begin)
        return out

    def load(self) -> StitchFile:
        """Every tensor in memory (for what needs all rows at once: anchor search, compare, sweep)."""
        tensors = {name: self.read(name) for name in self.specs}
        return StitchFile(path=self.path, kind=self.kind or "embeddings", tensors=tensors,
                                metadata=self.metadata)


def check_rows(path: Path, header: Header, rows: int) -> None:
    """Every row tensor of a file holds ``rows`` rows: a file whose tensors disagree (100 embeddings
    beside 600 labels) is refused instead of read into its neighbours' bytes or scored short."""
    for name in ROW_TENSORS:
        spec = header.tensors.get(name)
        if spec is not None and (not spec.shape or spec.shape[0] != rows):
            got = spec.shape[0] if spec.shape else "no"
            raise StitchError(f"{path} is inconsistent: its '{name}' tensor has {got} rows, the file {rows}",
                              hint="the file is damaged or was not written by stitchcli; embed it again.")


def open_rows(path: Path, kind: str | None = "embeddings") -> RowReader:
    return RowReader(path, kind)


def _read_rows(part: _Part, name: str, start: int, stop: int | None) -> torch.Tensor:
    """Rows ``start .. stop`` of one file's tensor, read into a fresh tensor."""
    spec = part.tensors.get(name)
    if spec is None:
        raise StitchError(f"{part.path} has no '{name}' tensor")
    dtype = TORCH_DTYPES.get(spec.dtype)
    if dtype is None:
        raise StitchError(f"{part.path}: cannot read {name} of dtype {spec.dtype}")
    shape = spec.shape
    if stop is None:
        start, stop = 0, (shape[0] if shape else 1)
    rows = max(0, stop - start)
    row_bytes = (spec.end - spec.start) // max(1, shape[0]) if shape else spec.end - spec.start
    out = torch.empty((rows, *shape[1:]) if shape else (), dtype=dtype)
    if out.numel():
        view = memoryview(out.view(-1).view(torch.uint8).numpy())
        offset, filled = part.data_offset + spec.start + start * row_bytes, 0
        while filled < len(view):
            got = os.preadv(part.fd(), [view[filled:]], offset + filled)
            if not got:
                raise StitchError(f"{part.path} ended early (truncated while being read?)")
            filled += got
    return out if shape else out.reshape(())
