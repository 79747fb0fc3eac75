"""What a head reads from an embeddings file (its space, transformed), a block or a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from stitchcli.errors import StitchError
from stitchcli.metadata import EmbeddingsMeta
from stitchcli.relspace import RelativeTransform, anchor_self_relative, get_normalization
from stitchcli.relspace.normalize import CHUNK_ROWS
from stitchcli.storage.rows import RowReader

SPACES = ("relative", "absolute")
# Trained heads (mlp, linear) visit every row each epoch: inputs up to this size are read into
# memory once; larger ones are read batch by batch from disk.
TRAIN_IN_MEMORY_BYTES = 1 << 30


class TensorInputs:
    """Inputs already in memory (the sweep's, a test's)."""

    def __init__(self, features: torch.Tensor) -> None:
        self.features = features
        self.num_rows, self.dim = features.shape

    def blocks(self) -> Iterator[tuple[int, torch.Tensor]]:
        for start in range(0, self.num_rows, CHUNK_ROWS):
            yield start, self.features[start : start + CHUNK_ROWS]

    def take(self, positions: torch.Tensor) -> torch.Tensor:
        return self.features[positions]

    def all(self) -> torch.Tensor:
        return self.features


class FileInputs:
    """The vectors a head of ``space`` with ``transform`` reads from a file, plain or sharded, read from
    disk as they are needed: memory holds one block (``blocks``) or one batch (``take``), never the file.

    Statistics that ``transform`` needs (per-anchor mean and spread of the file) and the finiteness
    check come from passes over the file made once, up front. Every later step is row-wise, so any
    block or batch gets the values it would have in the whole transformed file.
    """

    def __init__(self, reader: RowReader, space: str, transform: RelativeTransform,
                 block_rows: int = CHUNK_ROWS) -> None:
        if space not in SPACES:
            raise StitchError(f"unknown space {space!r}", hint="choose relative or absolute.")
        self.reader, self.space, self.block_rows = reader, space, block_rows
        self.name = "relative" if space == "relative" else "embeddings"
        self.num_rows, self.dim = reader.shape(self.name)
        self.transform = transform if space == "relative" else RelativeTransform()
        reference = get_normalization(self.transform.normalize).reference
        anchor_relative = None
        if reference == "anchors":
            spec = EmbeddingsMeta.of(reader).relative
            if spec is None:
                raise StitchError(f"{reader.path} has no anchors, so `normalize anchors` cannot read it")
            anchor_relative = anchor_self_relative(
                reader.read("anchor_embeddings").float(), spec.similarity, spec.center)
        self.statistics = self.transform.statistics(self._raw, self.num_rows, self.dim, anchor_relative)
        # A NaN or infinity anywhere makes its column's float64 sum non-finite (no overflow there),
        # so the statistics pass doubles as the check; otherwise one pass of row sums does it.
        finite = (bool(torch.isfinite(self.statistics[0]).all()) if reference == "rows"
                  else all(bool(torch.isfinite(block.sum(dim=1)).all()) for block in self._raw()))
        if not finite:
            raise StitchError(f"{reader.path} contains NaN or infinite values in its {space} vectors")

    def _raw(self) -> Iterator[torch.Tensor]:
        for _, block in self.reader.blocks(self.name, self.block_rows):
            yield block.float()

    def blocks(self) -> Iterator[tuple[int, torch.Tensor]]:
        """(first row, transformed rows), a block at a time, in order."""
        for start, block in self.reader.blocks(self.name, self.block_rows):
            yield start, self.transform.apply_with(block.float(), self.statistics)

    def take(self, positions: torch.Tensor) -> torch.Tensor:
        """The transformed rows at ``positions`` (a training batch)."""
        return self.transform.apply_with(self.reader.take(self.name, positions).float(), self.statistics)

    def all(self) -> torch.Tensor:
        """Every row in memory (for heads fitted on all rows at once, or trained on inputs that fit the
        memory budget)."""
        return torch.cat([block for _, block in self.blocks()]) if self.num_rows else torch.empty(0, self.dim)


def predictions(module: torch.nn.Module, inputs) -> torch.Tensor:
    """Class predictions of one module on every row of ``inputs``, a block at a time."""
    with torch.inference_mode():
        parts = [module(block).argmax(dim=1) for _, block in inputs.blocks()]
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.long)
