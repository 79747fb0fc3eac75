"""What a head does to raw relative vectors before reading them: normalisation, then sparse top-k."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from stitchcli.errors import StitchError
from stitchcli.relspace.normalize import (
    CHUNK_ROWS,
    column_statistics,
    get_normalization,
    standardise_,
    streamed_statistics,
)
from stitchcli.relspace.similarity import relative_projection
from stitchcli.relspace.sparse import sparsify_topk_


@dataclass(frozen=True)
class RelativeTransform:
    """Applied identically by ``train-head`` and ``evaluate``; recorded in the head's metadata.

    ``normalize`` standardises each anchor coordinate (see ``relspace.normalize``); ``topk`` > 0
    then keeps each sample's k largest values, raised to ``power`` and L2-normalised (ASIF).
    """

    normalize: str = "none"
    topk: int = 0
    power: float = 1.0

    def check(self) -> RelativeTransform:
        get_normalization(self.normalize)
        if self.topk < 0:
            raise StitchError(f"--topk must be 0 (off) or positive, got {self.topk}")
        if not (self.power > 0 and math.isfinite(self.power)):
            raise StitchError(f"--topk-power must be a positive finite number, got {self.power}")
        return self

    @property
    def identity(self) -> bool:
        return self.normalize == "none" and self.topk == 0

    def as_json(self) -> dict:
        return {"normalize": self.normalize, "topk": self.topk, "topk_power": self.power}

    def describe(self) -> str:
        parts = [] if self.normalize == "none" else [f"normalize {self.normalize}"]
        if self.topk:
            parts.append(f"top-{self.topk}" + (f"^{self.power:g}" if self.power != 1.0 else ""))
        return ", ".join(parts) or "raw"

    def statistics(self, blocks, count: int, k: int, anchor_relative: torch.Tensor | None = None):
        """What ``apply_with`` needs besides the rows: per-anchor (mean, std) for ``normalize``,
        from two passes over ``blocks()`` (fresh iterators of row blocks) or from the anchors'
        own relative vectors [K, K]; None when nothing is standardised."""
        reference = get_normalization(self.normalize).reference
        if reference == "rows":
            return streamed_statistics(lambda: ((block, None) for block in blocks()), count, k)
        if reference == "anchors":
            if anchor_relative is None:
                raise StitchError("normalize anchors needs the anchors' own relative vectors")
            return column_statistics(anchor_relative.float(), exclude_diagonal=True)
        return None

    def apply_with(self, rows: torch.Tensor, statistics) -> torch.Tensor:
        """``rows`` transformed in place (pass a float copy), with ``statistics`` from ``statistics()``.
        Every step is row-wise given the statistics, so blocks of any size give the same values."""
        if statistics is not None:
            standardise_(rows, *statistics)
        if self.topk:
            sparsify_topk_(rows, self.topk, self.power)
        return rows

    def apply(self, relative: torch.Tensor, anchor_relative: torch.Tensor | None = None) -> torch.Tensor:
        """A transformed copy of ``relative`` [N, K] held in memory. ``anchor_relative`` [K, K] (the
        anchors against themselves) is needed by ``normalize anchors`` only."""
        out = relative.float().clone()
        stats = self.statistics(lambda: (out[s : s + CHUNK_ROWS] for s in range(0, len(out), CHUNK_ROWS)),
                                len(out), out.shape[1], anchor_relative)
        return self.apply_with(out, stats)


def anchor_self_relative(anchor_embeddings: torch.Tensor, similarity: str, center: bool) -> torch.Tensor:
    """The anchors' own relative vectors [K, K] (the reference of ``normalize anchors``)."""
    return relative_projection(anchor_embeddings, anchor_embeddings, similarity, center)
