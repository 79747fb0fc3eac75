"""Per-anchor standardisation of relative vectors, with a file's own statistics or the anchors'."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch

from stitchcli.errors import StitchError
from stitchcli.relspace.registry import (  # noqa: F401 - re-exported
    NORMALIZATIONS,
    Normalization,
    get_normalization,
    register_normalization,
)

CHUNK_ROWS = 16_384
MIN_STD = 1e-6


def column_statistics(x: torch.Tensor, chunk_rows: int = CHUNK_ROWS,
                      exclude_diagonal: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) standard deviation of each column, in two chunked float64 passes.

    The result does not depend on how rows are chunked beyond float64 rounding. With
    ``exclude_diagonal`` (a square matrix of anchors against themselves) the self-similarities are
    left out, since they say nothing about how the anchor relates to other samples.
    """
    n = x.shape[0]

    def chunks() -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        for start in range(0, n, chunk_rows):
            chunk = x[start : start + chunk_rows]
            keep = None
            if exclude_diagonal:
                keep = torch.ones(chunk.shape, dtype=torch.bool)
                keep[torch.arange(len(chunk)), torch.arange(start, start + len(chunk))] = False
            yield chunk, keep

    return streamed_statistics(chunks, n - 1 if exclude_diagonal else n, x.shape[1])


def streamed_statistics(blocks: Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor | None]]],
                        count: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Column means and standard deviations over ``count`` values per column, in two float64 passes
    over ``blocks()`` (each pass a fresh iterator of (rows, mask of the values to count or None)):
    any number of rows with one block in memory."""
    if count < 2:
        raise StitchError(
            f"cannot standardise relative vectors from {count} value(s) per anchor",
            hint="standardising needs two or more: --normalize none reads the values as they are "
            "(--normalize anchors needs two or more anchors, file two or more rows).",
        )
    total = torch.zeros(k, dtype=torch.float64)
    for chunk, keep in blocks():
        chunk = chunk.double()
        total += (chunk if keep is None else chunk * keep).sum(dim=0)
    mean = total / count
    squares = torch.zeros(k, dtype=torch.float64)
    for chunk, keep in blocks():
        centred = (chunk.double() - mean).square_()
        squares += (centred if keep is None else centred * keep).sum(dim=0)
    std = (squares / count).sqrt()
    return mean.float(), std.float().clamp_(min=MIN_STD)


def standardise_(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
                 chunk_rows: int = CHUNK_ROWS) -> torch.Tensor:
    """(x - mean) / std per column, in place, chunk by chunk."""
    inverse = std.reciprocal()
    for start in range(0, x.shape[0], chunk_rows):
        x[start : start + chunk_rows].sub_(mean).mul_(inverse)
    return x
