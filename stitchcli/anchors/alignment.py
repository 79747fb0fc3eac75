"""Anchors chosen for stitching: samples whose similarity profiles agree most across encoders."""

from __future__ import annotations

from itertools import combinations

import torch
import torch.nn.functional as F

REFERENCE_ROWS = 1024
CHUNK_ROWS = 4096
# Keep the best-aligned 75 % of the rows, then draw uniformly: taking only the very best-aligned
# rows crowded anchors into the regions where the encoders agree (on digits, stitched accuracy fell
# from 0.80 to 0.71 at 300 anchors); see README "Defaults".
POOL_FRACTION = 0.75


def _profiles(unit: torch.Tensor, reference: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """Rows start..stop's cosines to the reference rows, centred and scaled to unit length per row;
    a row's similarity to itself (when it is a reference row) is left out (set to the row mean)."""
    sims = unit[start:stop] @ unit[reference].T
    sims -= sims.mean(dim=1, keepdim=True)
    own = (reference.unsqueeze(0) == torch.arange(start, stop).unsqueeze(1))
    sims[own] = 0.0
    return F.normalize(sims, dim=1, eps=1e-12)


def alignment_scores(spaces: list[torch.Tensor], generator: torch.Generator,
                     reference_rows: int = REFERENCE_ROWS) -> torch.Tensor:
    """For each sample, how well its similarity profile agrees across the encoders: the Pearson
    correlation of its cosines to a seeded reference subset of rows, averaged over encoder pairs.

    A relative coordinate is cos(x, a): an anchor whose profile correlates across encoders gives a
    coordinate that means the same thing in every space. Higher is better, at most 1.
    """
    n = len(spaces[0])
    reference = torch.randperm(n, generator=generator)[: min(n, reference_rows)]
    units = [F.normalize(x.float(), dim=1, eps=1e-12) for x in spaces]
    pairs = list(combinations(range(len(units)), 2))
    scores = torch.zeros(n)
    for start in range(0, n, CHUNK_ROWS):
        stop = min(n, start + CHUNK_ROWS)
        profiles = [_profiles(unit, reference, start, stop) for unit in units]
        for a, b in pairs:
            scores[start:stop] += (profiles[a] * profiles[b]).sum(dim=1)
    return scores / max(len(pairs), 1)


def select_aligned(k: int, labels: torch.Tensor, spaces: list[torch.Tensor],
                   generator: torch.Generator) -> torch.Tensor:
    """k samples drawn (seeded) from the best-aligned rows: the top ``POOL_FRACTION`` by alignment
    score, or the top k if that is more. Labels are not used."""
    scores = alignment_scores(spaces, generator)
    pool = torch.argsort(scores, descending=True, stable=True)[: max(k, int(len(scores) * POOL_FRACTION))]
    return pool[torch.randperm(len(pool), generator=generator)[:k]]
