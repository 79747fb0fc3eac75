"""Self-learning refinement of an anchor-fitted map with unpaired embeddings (as VecMap and MUSE align
word embeddings): map one pool into the other space, take mutual nearest neighbours as new pairs,
fit again on anchors plus those pairs, repeat. Most of a space is left undetermined by K anchors;
the pools, which both encoders embedded anyway, pin it down without labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stitchcli.errors import StitchError
from stitchcli.translate.maps import Translator, fit_translation, prediction_error

CHUNK_ROWS = 4096
MAX_POOL = 8192  # rows of each pool used for pseudo-pairs (a seeded sample beyond that)


def _unit(x: torch.Tensor) -> torch.Tensor:
    x = x.float()
    return F.normalize(x - x.mean(dim=0), dim=1, eps=1e-12)


def mutual_neighbours(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows (i, j) with b[j] the nearest of b to a[i] and a[i] the nearest of a to b[j] (cosine after
    centring each side), and their cosines; computed a chunk of ``a`` at a time."""
    ua, ub = _unit(a), _unit(b)
    best_b = torch.empty(len(ua), dtype=torch.long)
    best_b_score = torch.empty(len(ua))
    best_a_score = torch.full((len(ub),), -2.0)
    best_a = torch.zeros(len(ub), dtype=torch.long)
    for start in range(0, len(ua), CHUNK_ROWS):
        scores = ua[start : start + CHUNK_ROWS] @ ub.T
        best_b_score[start : start + len(scores)], best_b[start : start + len(scores)] = scores.max(dim=1)
        column_best, column_arg = scores.max(dim=0)
        better = column_best > best_a_score
        best_a_score[better] = column_best[better]
        best_a[better] = column_arg[better] + start
    rows = torch.arange(len(ua))
    mutual = best_a[best_b] == rows
    return rows[mutual], best_b[mutual], best_b_score[mutual]


def _sample(pool: torch.Tensor, seed: int) -> torch.Tensor:
    if len(pool) <= MAX_POOL:
        return pool
    keep = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:MAX_POOL]
    return pool[torch.sort(keep).values]


VALIDATION_EVERY = 5  # one anchor in five is held out to judge each round (when there are 10 or more)
KEEP_PAIRS = 1.0  # the more similar half of the mutual neighbours become pairs


def _rounds(method: str, source_anchors: torch.Tensor, target_anchors: torch.Tensor,
            source_pool: torch.Tensor, target_pool: torch.Tensor, iterations: int) -> list[Translator]:
    """The map fitted on the anchors, then after each round of pseudo-pairs (mutual neighbours)."""
    maps = [fit_translation(method, source_anchors, target_anchors)]
    for _ in range(iterations):
        i, j, score = mutual_neighbours(maps[-1](source_pool), target_pool)
        top = score.argsort(descending=True)[: int(len(score) * KEEP_PAIRS)]
        if len(top) == 0:
            break
        maps.append(fit_translation(method, torch.cat([source_anchors, source_pool[i[top]]]),
                                    torch.cat([target_anchors, target_pool[j[top]]])))
    return maps


def fit_refined(method: str, source_anchors: torch.Tensor, target_anchors: torch.Tensor,
                source_pool: torch.Tensor, target_pool: torch.Tensor, iterations: int = 3,
                seed: int = 0) -> Translator:
    """``method`` fitted on the anchors, then refitted up to ``iterations`` times on the anchors plus
    the mutual nearest neighbours between the mapped ``source_pool`` and ``target_pool`` (unpaired
    rows of each encoder: they need not be the same samples).

    Pseudo-pairs can be wrong (neighbours inside a dense cluster), so the number of rounds is chosen
    on held-out anchors: the same rounds run once more with one anchor in five held out, and the
    round that predicts those best (none, if the anchors alone do) is the one returned. Without enough
    anchors to hold any out, the map stays as fitted on the anchors.
    """
    if iterations < 0:
        raise StitchError(f"refinement rounds must be 0 or more, got {iterations}")
    source_anchors, target_anchors = source_anchors.float(), target_anchors.float()
    count = len(source_anchors)
    if count < 2 * VALIDATION_EVERY or iterations < 1:
        return fit_translation(method, source_anchors, target_anchors)
    source_pool, target_pool = _sample(source_pool.float(), seed), _sample(target_pool.float(), seed + 1)
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    held = order[::VALIDATION_EVERY]
    fit = torch.ones(count, dtype=torch.bool)
    fit[held] = False
    scale = target_anchors.double().std(dim=0).clamp(min=1e-8)
    trial = _rounds(method, source_anchors[fit], target_anchors[fit], source_pool, target_pool, iterations)
    errors = [prediction_error(m, source_anchors[held], target_anchors[held], scale) for m in trial]
    rounds = min(range(len(errors)), key=lambda r: (errors[r], r))  # ties: fewer rounds
    return _rounds(method, source_anchors, target_anchors, source_pool, target_pool, rounds)[-1]
