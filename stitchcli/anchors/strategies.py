"""Anchor strategies: choose K sample indices (random, stratified, farthest-point, k-means, aligned)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from stitchcli.anchors import alignment
from stitchcli.anchors.registry import STRATEGIES, get_strategy
from stitchcli.errors import StitchError
from stitchcli.storage.store import fingerprint


@dataclass(frozen=True)
class AnchorStrategy:
    """``select(k, labels, spaces, generator)`` returns K distinct row positions.

    ``spaces`` holds the train embeddings of ``min_spaces`` or more encoders (row i of each is the
    same sample), or is empty for strategies that need none.
    """

    name: str
    description: str
    min_spaces: int
    select: Callable[[int, torch.Tensor, list[torch.Tensor], torch.Generator], torch.Tensor]

    @property
    def needs_embeddings(self) -> bool:
        return self.min_spaces > 0


def _joint(spaces: list[torch.Tensor]) -> torch.Tensor:
    """One geometry for several encoders: their unit vectors side by side, each weighted equally."""
    unit = [F.normalize(x.float(), dim=1) for x in spaces]
    return unit[0] if len(unit) == 1 else torch.cat(unit, dim=1) / len(unit) ** 0.5


def _random(k: int, labels: torch.Tensor, spaces, generator) -> torch.Tensor:
    return torch.randperm(len(labels), generator=generator)[:k]


def _stratified(k: int, labels: torch.Tensor, spaces, generator) -> torch.Tensor:
    # As the paper's text experiments: a seeded shuffle, then round-robin over the classes.
    order = torch.randperm(len(labels), generator=generator)
    classes = sorted(set(labels.tolist()))
    per_class = [order[labels[order] == c] for c in classes]
    smallest = min(len(rows) for rows in per_class)
    rounds = -(-k // len(classes))
    if rounds > smallest:
        raise StitchError(
            f"cannot pick {k} stratified anchors: the smallest of the {len(classes)} classes has "
            f"{smallest} samples, so at most {smallest * len(classes)} balanced anchors exist",
            hint="use fewer anchors or --strategy random.",
        )
    picked = torch.stack([rows[:rounds] for rows in per_class], dim=1).reshape(-1)
    return picked[:k]


def _farthest_point(k: int, labels, spaces: list[torch.Tensor], generator) -> torch.Tensor:
    points = _joint(spaces)
    first = int(torch.randint(len(points), (1,), generator=generator))
    chosen = [first]
    nearest = (points - points[first]).pow(2).sum(dim=1)
    for _ in range(1, k):
        nearest[chosen[-1]] = -1.0  # never pick a chosen point again, even among duplicates
        candidate = int(torch.argmax(nearest))
        chosen.append(candidate)
        nearest = torch.minimum(nearest, (points - points[candidate]).pow(2).sum(dim=1))
        nearest[chosen] = -1.0
    return torch.tensor(chosen, dtype=torch.long)


def _squared_distances(points: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    return (
        points.pow(2).sum(1, keepdim=True) - 2 * points @ centroids.T + centroids.pow(2).sum(1)
    ).clamp_(min=0)


def _kmeans(k: int, labels, spaces: list[torch.Tensor], generator, iterations: int = 50) -> torch.Tensor:
    points = _joint(spaces)
    # k-means++ initialisation, seeded.
    centroids = points[torch.randint(len(points), (1,), generator=generator)]
    nearest = _squared_distances(points, centroids)[:, 0]
    for _ in range(1, k):
        weights = nearest if float(nearest.sum()) > 0 else torch.ones_like(nearest)
        index = torch.multinomial(weights, 1, generator=generator)
        centroids = torch.cat([centroids, points[index]])
        nearest = torch.minimum(nearest, _squared_distances(points, points[index])[:, 0])
    for _ in range(iterations):
        assignment = _squared_distances(points, centroids).argmin(dim=1)
        sums = torch.zeros_like(centroids).index_add_(0, assignment, points)
        counts = torch.bincount(assignment, minlength=k).unsqueeze(1)
        updated = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        if torch.allclose(updated, centroids, atol=1e-6):
            break
        centroids = updated
    # The sample nearest each centroid, all distinct: a taken sample goes to its next nearest.
    distances = _squared_distances(centroids, points)
    chosen: list[int] = []
    taken: set[int] = set()
    for row in distances:
        for candidate in torch.argsort(row).tolist():
            if candidate not in taken:
                taken.add(candidate)
                chosen.append(candidate)
                break
    return torch.tensor(chosen, dtype=torch.long)


def register_strategy(strategy: AnchorStrategy) -> AnchorStrategy:
    return STRATEGIES.register(strategy.name, strategy)


# The built-ins, registered by name in ``anchors.registry`` (imported from here on first use).
RANDOM = AnchorStrategy("random", "uniform, seeded", 0, _random)
STRATIFIED = AnchorStrategy("stratified", "round-robin over classes", 0, _stratified)
FPS = AnchorStrategy("fps", "farthest-point sampling", 1, _farthest_point)
KMEANS = AnchorStrategy("kmeans", "sample nearest each k-means centroid", 1, _kmeans)
ALIGNED = AnchorStrategy(
    "aligned", "samples whose similarity profiles agree most across encoders", 2, alignment.select_aligned)


def select_anchors(
    strategy: str,
    k: int,
    labels: torch.Tensor,
    spaces: list[torch.Tensor] | torch.Tensor | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """K distinct row positions chosen by ``strategy`` (positions into ``labels`` and each space)."""
    chosen = get_strategy(strategy)
    spaces = [] if spaces is None else [spaces] if isinstance(spaces, torch.Tensor) else list(spaces)
    if k <= 0:
        raise StitchError(f"--num must be positive, got {k}")
    if not -(2**63) <= seed < 2**64:  # what a torch generator takes
        raise StitchError(f"--seed must fit in 64 bits, got {seed}")
    if k > len(labels):
        raise StitchError(f"cannot pick {k} anchors from a dataset of {len(labels)} samples")
    if len(spaces) < chosen.min_spaces:
        what = "one encoder's" if chosen.min_spaces == 1 else f"{chosen.min_spaces} or more encoders'"
        raise StitchError(
            f"--strategy {strategy} needs {what} train embeddings",
            hint="pass --embeddings TRAIN_EMB.safetensors (from `stitch embed`)"
            + (", once per encoder." if chosen.min_spaces > 1 else "."),
        )
    generator = torch.Generator().manual_seed(seed)
    positions = chosen.select(k, labels, spaces, generator)
    return positions.to(torch.long)


def anchor_set_fingerprint(dataset_fingerprint: str, indices: torch.Tensor) -> str:
    """Identity of an anchor set: the source's content and the chosen rows, in order."""
    return fingerprint(dataset_fingerprint, indices.to(torch.int64).numpy().tobytes())
