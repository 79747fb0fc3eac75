"""The embedding loop: length-sorted batches, chunked checkpoints, output in dataset order."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stitchcli.data import Dataset
from stitchcli.encoders import Encoder
from stitchcli.errors import StitchError
from stitchcli.resume import ChunkStore


def batch_order(encoder: Encoder, dataset: Dataset, rows: Sequence[int]) -> list[int]:
    """Positions into ``rows`` in processing order.

    Text goes longest first: similar lengths share a batch (less padding), and an
    out-of-memory batch shows up at once rather than at the end.
    """
    positions = list(range(len(rows)))
    if encoder.modality == "text":
        lengths = [len(str(dataset.sample(rows[p]))) for p in positions]
        positions.sort(key=lambda p: -lengths[p])
    return positions


def embed_rows(
    encoder: Encoder,
    dataset: Dataset,
    rows: Sequence[int],
    batch_size: int,
    chunk_size: int,
    chunks: ChunkStore | None = None,
    group: str = "data",
    on_progress=None,
) -> torch.Tensor:
    """Embeddings [len(rows), D] of ``dataset`` rows, in the order of ``rows``.

    Work is cut into chunks of whole batches; each finished chunk goes to ``chunks`` so that a
    rerun recomputes only what is missing, with the very same batches (identical results).
    """
    if encoder.modality != dataset.modality:
        raise StitchError(
            f"{encoder.spec} is a {encoder.modality} encoder but {dataset.source} holds "
            f"{dataset.modality} samples"
        )
    order = batch_order(encoder, dataset, rows)
    per_chunk = max(1, -(-chunk_size // batch_size)) * batch_size
    pieces: list[tuple[list[int], torch.Tensor]] = []
    for index, start in enumerate(range(0, len(order), per_chunk)):
        positions = order[start : start + per_chunk]
        done = chunks.load(group, index) if chunks is not None else None
        if done is None or len(done) != len(positions):
            parts = []
            for b in range(0, len(positions), batch_size):
                batch = positions[b : b + batch_size]
                vectors = encoder.embed(dataset.samples([rows[p] for p in batch]))
                _check_finite(vectors, encoder)
                parts.append(vectors)
                if on_progress:
                    on_progress(len(batch))
            done = torch.cat(parts)
            if chunks is not None:
                chunks.save(group, index, done)
        elif on_progress:
            on_progress(0)  # already counted as resumed
        pieces.append((positions, done))
    dim = pieces[0][1].shape[1] if pieces else 0
    out = torch.empty(len(rows), dim, dtype=torch.float32)
    for positions, vectors in pieces:
        out[torch.tensor(positions, dtype=torch.long)] = vectors
    return out


def count_resumed(chunks: ChunkStore | None, group: str, total: int, batch_size: int,
                  chunk_size: int) -> int:
    """How many samples finished chunks already cover (for the progress bar's start)."""
    if chunks is None:
        return 0
    per_chunk = max(1, -(-chunk_size // batch_size)) * batch_size
    n_chunks = -(-total // per_chunk)
    done = 0
    for index in range(n_chunks):
        if chunks.path(group, index).exists():
            done += min(per_chunk, total - index * per_chunk)
    return done


def _check_finite(vectors: torch.Tensor, encoder: Encoder) -> None:
    if not torch.isfinite(vectors).all():
        raise StitchError(
            f"{encoder.spec} produced NaN or infinite values",
            hint="with --dtype float16 this is often overflow; try float32 or bfloat16.",
        )
