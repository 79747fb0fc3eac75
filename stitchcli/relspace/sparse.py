"""Sparse top-k relative vectors (ASIF, Norelli et al., NeurIPS 2023): keep, sharpen, renormalise."""

from __future__ import annotations

import torch

CHUNK_ROWS = 16_384


def sparsify_topk_(x: torch.Tensor, k: int, power: float = 1.0, chunk_rows: int = CHUNK_ROWS) -> torch.Tensor:
    """Keep each row's ``k`` largest values, raise them (clamped at 0) to ``power``, L2-normalise.

    In place, chunk by chunk. ``k`` at or above the width keeps every value (the power and the
    renormalisation still apply). A row with no positive value among its top k becomes zeros.
    """
    width = x.shape[1]
    for start in range(0, x.shape[0], chunk_rows):
        chunk = x[start : start + chunk_rows]
        if k < width:
            values, indices = chunk.topk(k, dim=1)
            chunk.zero_().scatter_(1, indices, values)
        chunk.clamp_(min=0.0)
        if power != 1.0:
            chunk.pow_(power)
        chunk.div_(chunk.norm(dim=1, keepdim=True).clamp_(min=1e-12))
    return x
