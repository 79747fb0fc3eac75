"""The embedding loop: contiguous chunks of rows, length-sorted batches inside each, chunks kept on disk."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import torch

from stitchcli.data import Dataset
from stitchcli.encoders import Encoder
from stitchcli.errors import StitchError

# Batches are planned (texts sorted by length) for this many rows at a time, so the plan's memory
# stays bounded however many rows there are; one DataLoader serves each window.
WINDOW_ROWS = 65_536


class MemoryChunks:
    """Finished chunks kept in memory (the ``ChunkStore`` interface, for callers that need no resume)."""

    def __init__(self) -> None:
        self.done: dict[tuple[str, int], torch.Tensor] = {}

    def load(self, group: str, index: int) -> torch.Tensor | None:
        return self.done.get((group, index))

    def save(self, group: str, index: int, embeddings: torch.Tensor) -> None:
        self.done[group, index] = embeddings


def chunk_spans(total: int, batch_size: int, chunk_size: int) -> list[range]:
    """Positions ``0..total`` cut into contiguous chunks of whole batches (about ``chunk_size`` rows)."""
    per_chunk = max(1, -(-chunk_size // batch_size)) * batch_size
    return [range(start, min(start + per_chunk, total)) for start in range(0, total, per_chunk)]


def batch_order(encoder: Encoder, dataset: Dataset, rows: Sequence[int], span: range) -> list[int]:
    """The positions of one chunk in processing order.

    Text goes longest first: similar lengths share a batch (less padding), and an out-of-memory
    batch shows up in the first chunk rather than at the end.
    """
    positions = list(span)
    if encoder.modality == "text":
        lengths = {p: len(str(dataset.sample(rows[p]))) for p in positions}
        positions.sort(key=lambda p: -lengths[p])
    return positions


def embed_chunks(
    encoder: Encoder,
    dataset: Dataset,
    rows: Sequence[int],
    batch_size: int,
    chunk_size: int,
    chunks,
    group: str = "data",
    on_progress: Callable[[int], None] | None = None,
    num_workers: int = 0,
) -> list[range]:
    """Embed ``dataset`` rows into ``chunks`` (a ``ChunkStore`` or ``MemoryChunks``); returns the spans.

    Chunk i holds the embeddings of positions ``spans[i]`` of ``rows``, in that order. Chunks
    already there are kept, so a rerun recomputes only what is missing, with the very same batches
    (identical results). With ``num_workers``, DataLoader worker processes read and prepare
    (tokenise, decode, transform) the batches ahead of the forward passes, in the same order.
    """
    if encoder.modality != dataset.modality:
        raise StitchError(
            f"{encoder.spec} is a {encoder.modality} encoder but {dataset.source} holds "
            f"{dataset.modality} samples"
        )
    spans = chunk_spans(len(rows), batch_size, chunk_size)
    todo = []
    for index, span in enumerate(spans):
        done = chunks.load(group, index)
        if done is None or len(done) != len(span):
            todo.append(index)
        elif on_progress:
            on_progress(0)  # already counted as resumed
    per_window = max(1, WINDOW_ROWS // max(1, len(spans[0]) if spans else 1))
    for first in range(0, len(todo), per_window):
        window = todo[first : first + per_window]
        orders = {index: batch_order(encoder, dataset, rows, spans[index]) for index in window}
        batches = [orders[index][b : b + batch_size] for index in window
                   for b in range(0, len(spans[index]), batch_size)]
        computed = _batch_vectors(encoder, dataset, rows, batches, num_workers)
        for index in window:
            order, parts = orders[index], []
            for _ in range(0, len(order), batch_size):
                vectors = next(computed)
                _check_finite(vectors, encoder)
                parts.append(vectors)
                if on_progress:
                    on_progress(len(vectors))
            done = torch.empty(len(order), parts[0].shape[1], dtype=torch.float32)
            done[torch.tensor(order, dtype=torch.long) - spans[index].start] = torch.cat(parts).float()
            chunks.save(group, index, done)
    return spans


def embed_rows(encoder: Encoder, dataset: Dataset, rows: Sequence[int], batch_size: int,
               chunk_size: int, num_workers: int = 0) -> torch.Tensor:
    """Embeddings [len(rows), D] of ``dataset`` rows, in memory (for small sets: anchors, tests)."""
    chunks = MemoryChunks()
    spans = embed_chunks(encoder, dataset, rows, batch_size, chunk_size, chunks, num_workers=num_workers)
    if not spans:
        return torch.empty(0, 0)
    return torch.cat([chunks.load("data", index) for index in range(len(spans))])


class _PreparedBatches(torch.utils.data.Dataset):
    """Batch i, read from the dataset and prepared for the encoder (in a worker process)."""

    def __init__(self, encoder: Encoder, dataset: Dataset, rows: Sequence[int], batches: list) -> None:
        self.encoder, self.dataset, self.rows, self.batches = encoder, dataset, rows, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        return self.encoder.prepare(self.dataset.samples([self.rows[p] for p in self.batches[i]]))


def _batch_vectors(encoder: Encoder, dataset: Dataset, rows: Sequence[int], batches: list,
                   num_workers: int):
    """The embeddings of each batch (positions into ``rows``), in order."""
    import multiprocessing

    if num_workers > 0 and hasattr(encoder, "prepare") and "fork" in multiprocessing.get_all_start_methods():
        # Forked workers share the loaded dataset and encoder; they only read and prepare.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        loader = torch.utils.data.DataLoader(
            _PreparedBatches(encoder, dataset, rows, batches), batch_size=None, num_workers=num_workers,
            pin_memory=torch.cuda.is_available(), prefetch_factor=4, multiprocessing_context="fork")
        for prepared in loader:
            yield encoder.forward(prepared)
        return
    for batch in batches:
        yield encoder.embed(dataset.samples([rows[p] for p in batch]))


def count_resumed(chunks, group: str, total: int, batch_size: int, chunk_size: int) -> int:
    """How many samples finished chunks already cover (for the progress bar's start)."""
    if chunks is None:
        return 0
    spans = chunk_spans(total, batch_size, chunk_size)
    return sum(len(span) for index, span in enumerate(spans) if chunks.path(group, index).exists())


def _check_finite(vectors: torch.Tensor, encoder: Encoder) -> None:
    if not torch.isfinite(vectors).all():
        raise StitchError(
            f"{encoder.spec} produced NaN or infinite values",
            hint="with --dtype float16 this is often overflow; try float32 or bfloat16.",
        )
