"""The embedding loop: length-sorted batches, chunked checkpoints, output in dataset order."""

from __future__ import annotations

import os
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
    num_workers: int = 0,
) -> torch.Tensor:
    """Embeddings [len(rows), D] of ``dataset`` rows, in the order of ``rows``.

    Work is cut into chunks of whole batches; each finished chunk goes to ``chunks`` so that a
    rerun recomputes only what is missing, with the very same batches (identical results). With
    ``num_workers``, DataLoader worker processes read and prepare (tokenise, decode, transform) the
    batches ahead of the forward passes, in the same order: the results do not change.
    """
    if encoder.modality != dataset.modality:
        raise StitchError(
            f"{encoder.spec} is a {encoder.modality} encoder but {dataset.source} holds "
            f"{dataset.modality} samples"
        )
    order = batch_order(encoder, dataset, rows)
    per_chunk = max(1, -(-chunk_size // batch_size)) * batch_size
    pieces: list[tuple[list[int], torch.Tensor]] = []
    spans = [order[start : start + per_chunk] for start in range(0, len(order), per_chunk)]
    finished = [chunks.load(group, index) if chunks is not None else None for index in range(len(spans))]
    finished = [done if done is not None and len(done) == len(span) else None
                for done, span in zip(finished, spans, strict=True)]
    todo = [span[b : b + batch_size] for span, done in zip(spans, finished, strict=True) if done is None
            for b in range(0, len(span), batch_size)]
    computed = _batch_vectors(encoder, dataset, rows, todo, num_workers)
    for index, (positions, done) in enumerate(zip(spans, finished, strict=True)):
        if done is None:
            parts = []
            for b in range(0, len(positions), batch_size):
                batch = positions[b : b + batch_size]
                vectors = next(computed)
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
