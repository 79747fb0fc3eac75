"""An embeddings file held in memory: tensors and metadata read through ``RowReader``'s interface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from stitchcli.errors import StitchError
from stitchcli.storage.plain import json_metadata, missing_tensor
from stitchcli.storage.rows.reader import ROW_TENSORS


class MemoryRows:
    """What ``open_rows`` gives for a file, built from tensors in memory (the Python API's vectors):
    training, evaluation and prediction read it exactly as they read a file, so the numbers agree."""

    def __init__(self, tensors: dict[str, torch.Tensor], metadata: dict[str, str],
                 name: str = "the given vectors") -> None:
        self.path = Path(name)
        self.tensors = dict(tensors)
        self.metadata = {k: v for k, v in metadata.items() if v is not None}
        self.kind = "embeddings"
        counts = {len(t) for n, t in self.tensors.items() if n in ROW_TENSORS}
        if len(counts) > 1:
            raise StitchError(f"{name}: its row tensors hold different numbers of rows ({sorted(counts)})")
        self.num_rows = counts.pop() if counts else 0

    def has(self, name: str) -> bool:
        return name in self.tensors

    def check(self, name: str) -> None:
        if name not in self.tensors:
            raise missing_tensor(self.path, name)

    def shape(self, name: str) -> tuple[int, ...]:
        self.check(name)
        return tuple(self.tensors[name].shape)

    def meta_json(self, key: str, default=None):
        return json_metadata(self.metadata, key, default, self.path)

    def label_names(self) -> list[str]:
        return list(self.meta_json("label_names", []))

    def labels(self) -> torch.Tensor:
        return self.read("labels").long()

    def read(self, name: str, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Rows ``start .. stop`` of a row tensor, or the whole of another tensor (a copy either way)."""
        self.check(name)
        tensor = self.tensors[name]
        if name not in ROW_TENSORS:
            return tensor.clone()
        return tensor[start : self.num_rows if stop is None else stop].clone()

    def blocks(self, name: str, block_rows: int) -> Iterator[tuple[int, torch.Tensor]]:
        for start in range(0, self.num_rows, block_rows):
            yield start, self.read(name, start, start + block_rows)

    def take(self, name: str, positions) -> torch.Tensor:
        self.check(name)
        return self.tensors[name][torch.as_tensor(positions, dtype=torch.long)].clone()
