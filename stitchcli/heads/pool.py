"""The unpaired rows a translated head carries to refine its map (``pool_embeddings``): a seeded sample."""

from __future__ import annotations

import torch


def pool_positions(rows: int, cap: int, seed: int) -> torch.Tensor:
    """``cap`` positions of ``rows`` rows (all of them when there are no more), drawn by ``seed``, sorted."""
    if rows <= cap:
        return torch.arange(rows, dtype=torch.long)
    keep = torch.randperm(rows, generator=torch.Generator().manual_seed(seed))[:cap]
    return keep.sort().values


def pool_sample(file, cap: int, seed: int) -> torch.Tensor:  # noqa: ANN001 - a RowReader or MemoryRows
    """A seeded sample of at most ``cap`` rows of ``file``'s embeddings (float32): only those rows are read,
    from a plain file, a sharded one or arrays."""
    positions = pool_positions(file.num_rows, cap, seed)
    return file.take("embeddings", positions).float()
