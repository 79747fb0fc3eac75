"""Label-free signals of how well a map fitted on shared anchors carries one space into another."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from stitchcli.defaults import TRANSLATE
from stitchcli.evaluate.compare import linear_cka, neighbour_jaccard
from stitchcli.heads.pool import pool_positions

FOLDS = 5
MIN_FOLD_ANCHORS = 2 * FOLDS  # below this, the held-out signals are None
CLUSTERS = 10
NEIGHBOURS = 10
POOL_CAP = 4096  # unpaired rows used per side (a seeded sample)
KMEANS_ITERATIONS = 50
SEED = 0

# What ``pair_signals`` returns, in this order (the table's rows, the calibration's names).
SIGNAL_NAMES = ("heldout_match", "heldout_top5", "heldout_r2", "cluster_agreement", "pool_balance", "cka",
                "knn_agreement", "log_anchors")


def folds(count: int, seed: int = SEED) -> list[torch.Tensor]:
    """``FOLDS`` disjoint held-out index sets covering ``count`` anchors (a seeded permutation)."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    return [order[fold::FOLDS] for fold in range(FOLDS)]


def _fitted_folds(target: torch.Tensor, source: torch.Tensor, method: str | None = None):
    """For each fold: (kept mask, held-out indices, the map fitted on the kept anchors)."""
    from stitchcli.translate.maps import fit_translation

    out = []
    for held in folds(len(target)):
        keep = torch.ones(len(target), dtype=torch.bool)
        keep[held] = False
        out.append((keep, held, fit_translation(method or TRANSLATE, source[keep], target[keep])))
    return out


def _unit(x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    return F.normalize((x.double() - mean.double()), dim=1, eps=1e-12)


def _retrieval(target: torch.Tensor, source: torch.Tensor, fitted) -> tuple[float, float]:
    """Top-1 and top-5 rates at which a mapped held-out B anchor's nearest held-out A anchor (cosine
    after centring on the kept A anchors' mean) is its own partner."""
    hits1 = hits5 = total = 0
    for keep, held, translate in fitted:
        mean = target[keep].double().mean(dim=0)
        sims = _unit(translate(source[held]), mean) @ _unit(target[held], mean).T
        own = sims.diagonal()
        ranks = (sims > own[:, None]).sum(dim=1)  # how many others beat the partner
        hits1 += int((ranks < 1).sum())
        hits5 += int((ranks < 5).sum())
        total += len(held)
    return hits1 / total, hits5 / total


def heldout_match(target: torch.Tensor, source: torch.Tensor, fitted=None) -> float | None:
    """Top-1 partner retrieval of held-out anchors mapped from B into A (5 folds)."""
    if len(target) < MIN_FOLD_ANCHORS:
        return None
    return _retrieval(target, source, fitted or _fitted_folds(target, source))[0]


def heldout_top5(target: torch.Tensor, source: torch.Tensor, fitted=None) -> float | None:
    """Top-5 partner retrieval of held-out anchors mapped from B into A (5 folds)."""
    if len(target) < MIN_FOLD_ANCHORS:
        return None
    return _retrieval(target, source, fitted or _fitted_folds(target, source))[1]


def heldout_r2(target: torch.Tensor, source: torch.Tensor, fitted=None) -> float | None:
    """1 - squared error / variance of held-out anchors mapped into A, in A's standardised
    coordinates (the kept anchors' mean and spread), averaged over the folds."""
    from stitchcli.translate.maps import standardise

    if len(target) < MIN_FOLD_ANCHORS:
        return None
    scores = []
    for keep, held, translate in fitted or _fitted_folds(target, source):
        mean, spread = standardise(target[keep].double())
        truth = (target[held].double() - mean) / spread
        error = float(((translate(source[held]).double() - mean) / spread - truth).pow(2).sum())
        variance = float(truth.pow(2).sum())
        scores.append(1.0 - error / variance if variance > 0 else 0.0)
    return sum(scores) / len(scores)


def kmeans(x: torch.Tensor, k: int = CLUSTERS, seed: int = SEED,
           iterations: int = KMEANS_ITERATIONS) -> torch.Tensor:
    """Centroids of ``x`` (greedy k-means++ seeding as scikit-learn's, then Lloyd iterations; seeded,
    in float64)."""
    x = x.double()
    k = min(k, len(x))
    generator = torch.Generator().manual_seed(seed)
    norms = x.pow(2).sum(dim=1)
    centroids = x[torch.randint(len(x), (1,), generator=generator)]
    nearest = squared_distances(x, centroids).squeeze(1)
    trials = 2 + int(math.log(k))
    for _ in range(1, k):
        if float(nearest.sum()) <= 0:  # fewer distinct points than k
            break
        # Of a few candidates drawn by squared distance, the one that lowers the total most.
        candidates = torch.multinomial(nearest, trials, replacement=True, generator=generator)
        pooled = torch.minimum(nearest[None, :], squared_distances(x[candidates], x, norms))
        best = int(pooled.sum(dim=1).argmin())
        centroids = torch.cat([centroids, x[candidates[best]][None]])
        nearest = pooled[best]
    for _ in range(iterations):
        assigned = nearest_centroid(x, centroids)
        counts = torch.bincount(assigned, minlength=len(centroids))
        sums = F.one_hot(assigned, len(centroids)).T.double() @ x
        filled = counts > 0  # an empty cluster keeps its centroid
        moved = centroids.clone()
        moved[filled] = sums[filled] / counts[filled, None]
        if torch.equal(moved, centroids):
            break
        centroids = moved
    return centroids


def squared_distances(x: torch.Tensor, y: torch.Tensor, y_norms: torch.Tensor | None = None) -> torch.Tensor:
    """Squared Euclidean distances of every row of ``x`` to every row of ``y`` (float64, through one
    product: ``torch.cdist`` computes them one by one against a few rows, far slower)."""
    x, y = x.double(), y.double()
    y_norms = y.pow(2).sum(dim=1) if y_norms is None else y_norms
    return (x.pow(2).sum(dim=1)[:, None] - 2 * x @ y.T + y_norms[None, :]).clamp(min=0)


def nearest_centroid(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Index of each row's nearest centroid (Euclidean; a row's own norm ranks nothing, so left out)."""
    centroids = centroids.double()
    return (centroids.pow(2).sum(dim=1)[None, :] - 2 * x.double() @ centroids.T).argmin(dim=1)


def cluster_agreement(target: torch.Tensor, source: torch.Tensor, target_pool: torch.Tensor | None = None,
                      fitted=None, centroids: torch.Tensor | None = None) -> float | None:
    """Fraction of held-out anchors whose mapped B embedding falls in the same k-means cluster of A
    (fitted on A's pool rows, else A's anchors) as the anchor's own A embedding."""
    if len(target) < MIN_FOLD_ANCHORS:
        return None
    if centroids is None:
        centroids = kmeans(target_pool if target_pool is not None and len(target_pool) else target)
    agree = total = 0
    for _, held, translate in fitted or _fitted_folds(target, source):
        mapped = nearest_centroid(translate(source[held]), centroids)
        agree += int((mapped == nearest_centroid(target[held], centroids)).sum())
        total += len(held)
    return agree / total


def pool_balance(target: torch.Tensor, source: torch.Tensor, target_pool: torch.Tensor | None,
                 source_pool: torch.Tensor | None, centroids: torch.Tensor | None = None,
                 method: str | None = None) -> float | None:
    """1 - total variation between how A's pool rows and B's pool rows mapped into A (map fitted on
    all anchors) fill A's k-means clusters: low when the map collapses or shifts B's data."""
    from stitchcli.translate.maps import fit_translation

    if target_pool is None or source_pool is None or not len(target_pool) or not len(source_pool):
        return None
    if len(target) < MIN_FOLD_ANCHORS:
        return None
    if centroids is None:
        centroids = kmeans(target_pool)
    mapped = fit_translation(method or TRANSLATE, source, target)(source_pool)
    k = len(centroids)
    ours = torch.bincount(nearest_centroid(target_pool, centroids), minlength=k).double() / len(target_pool)
    theirs = torch.bincount(nearest_centroid(mapped, centroids), minlength=k).double() / len(source_pool)
    return 1.0 - 0.5 * float((ours - theirs).abs().sum())


def cka(target: torch.Tensor, source: torch.Tensor) -> float:
    """Linear CKA between the (centred) anchor embeddings of A and B."""
    return linear_cka(target, source)


def knn_agreement(target: torch.Tensor, source: torch.Tensor, k: int = NEIGHBOURS) -> float | None:
    """Mean Jaccard overlap of each anchor's nearest anchors in A and in B (cosine after centring)."""
    k = min(k, len(target) - 1)
    if k < 1:
        return None
    return neighbour_jaccard(target.double() - target.double().mean(dim=0),
                             source.double() - source.double().mean(dim=0), k)


def sample_pool(rows: torch.Tensor | None, cap: int = POOL_CAP, seed: int = SEED) -> torch.Tensor | None:
    """At most ``cap`` rows of ``rows`` (a seeded sample, in their order); None stays None."""
    if rows is None or len(rows) <= cap:
        return rows
    return rows[pool_positions(len(rows), cap, seed)]


def pair_signals(target_anchors: torch.Tensor, source_anchors: torch.Tensor,
                 target_pool: torch.Tensor | None = None, source_pool: torch.Tensor | None = None,
                 method: str | None = None) -> dict[str, float | None]:
    """Every signal of ``SIGNAL_NAMES`` for one pair: A (``target``, the head's side) and B
    (``source``, the file read), row i of both anchor sets the same anchor sample; pools are
    unpaired rows of each side (None: none), sampled down to ``POOL_CAP``; ``method``: the map
    (a translation name; None: the default, ``defaults.TRANSLATE``). Deterministic."""
    target, source = target_anchors.float(), source_anchors.float()
    target_pool, source_pool = (None if pool is None else sample_pool(pool).float()
                                for pool in (target_pool, source_pool))
    signals: dict[str, float | None] = dict.fromkeys(SIGNAL_NAMES)
    signals["cka"] = cka(target, source)
    signals["knn_agreement"] = knn_agreement(target, source)
    # The anchor count itself: with few anchors a map leaves most of a space undetermined, and on every
    # real case of-probe rose with it (benchmarks/check_calibration.py); log10, as it rose by factors.
    signals["log_anchors"] = math.log10(len(target)) if len(target) else None
    if len(target) < MIN_FOLD_ANCHORS:
        return signals
    fitted = _fitted_folds(target, source, method)
    signals["heldout_match"], signals["heldout_top5"] = _retrieval(target, source, fitted)
    signals["heldout_r2"] = heldout_r2(target, source, fitted)
    has_pool = target_pool is not None and len(target_pool) > 0
    centroids = kmeans(target_pool.float() if has_pool else target)
    signals["cluster_agreement"] = cluster_agreement(target, source, fitted=fitted, centroids=centroids)
    signals["pool_balance"] = pool_balance(target, source, target_pool, source_pool, centroids, method)
    return signals
