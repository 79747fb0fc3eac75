"""An embed's output file assembled from its finished chunks, one chunk in memory at a time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from stitchcli.relspace import RelativeProjector
from stitchcli.storage.rows import RowWriter


def gather_rows(chunks, spans: list[range], positions: torch.Tensor, group: str = "data") -> torch.Tensor:
    """The embeddings at ``positions`` (of the embedded rows), read chunk by chunk from ``chunks``."""
    per_chunk = len(spans[0])
    out: torch.Tensor | None = None
    owners = positions // per_chunk
    for index in owners.unique().tolist():
        vectors = chunks.load(group, index)
        if out is None:
            out = torch.empty(len(positions), vectors.shape[1], dtype=torch.float32)
        mine = (owners == index).nonzero().flatten()
        out[mine] = vectors[positions[mine] - spans[index].start]
    return out if out is not None else torch.empty(0, 0)


def write_embeddings(out: Path, chunks, spans: list[range], rows: Sequence[int], labels: Sequence[int],
                     dim: int, metadata: dict, anchors: torch.Tensor | None = None,
                     similarity: str = "cosine", center: bool = False, relative: bool = True) -> None:
    """Write ``out`` from the chunks: embeddings, labels, indices and, with ``anchors``, the anchor
    embeddings and (unless ``relative`` is False) every row's relative vectors, chunk by chunk."""
    n = len(rows)
    columns = {"embeddings": (torch.float32, (n, dim)), "labels": (torch.int64, (n,)),
               "indices": (torch.int64, (n,))}
    project = RelativeProjector(anchors, similarity, center) if anchors is not None and relative else None
    if anchors is not None:
        columns["anchor_embeddings"] = (torch.float32, tuple(anchors.shape))
    if project is not None:
        columns["relative"] = (torch.float32, (n, project.width))
    with RowWriter(out, "embeddings", columns, metadata) as writer:
        for index, span in enumerate(spans):
            vectors = chunks.load("data", index)
            writer.write("embeddings", span.start, vectors)
            numbers = [rows[p] for p in span]
            writer.write("labels", span.start, torch.tensor([labels[r] for r in numbers], dtype=torch.int64))
            writer.write("indices", span.start, torch.tensor(numbers, dtype=torch.int64))
            if project is not None:
                writer.write("relative", span.start, project(vectors))
        if anchors is not None:
            writer.write("anchor_embeddings", 0, anchors)
