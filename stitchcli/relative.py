"""Relative projection: similarities of each sample to the anchors, as a registry, chunked over rows."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from stitchcli.errors import StitchError

# Rows per chunk: bounds the temporary memory of one step to a few tens of MB for K≈1000.
DEFAULT_CHUNK_ROWS = 16_384


@dataclass(frozen=True)
class Similarity:
    """A similarity between samples and anchors, with the transforms it is invariant to.

    ``prepare`` runs once on the anchors; ``compute(x, prepared, out)`` fills ``out`` [n, K].
    """

    name: str
    description: str
    invariances: frozenset[str]
    prepare: Callable[[torch.Tensor], torch.Tensor]
    compute: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]


def _cosine(x: torch.Tensor, anchors_unit: torch.Tensor, out: torch.Tensor) -> None:
    # eps keeps zero vectors at similarity 0 instead of NaN.
    torch.mm(F.normalize(x, dim=1, eps=1e-12), anchors_unit.T, out=out)


def _angular(x: torch.Tensor, anchors_unit: torch.Tensor, out: torch.Tensor) -> None:
    _cosine(x, anchors_unit, out)
    out.clamp_(-1.0, 1.0).arccos_().mul_(-2.0 / math.pi).add_(1.0)


def _distance(p: float, scale: Callable[[int], float]):
    def compute(x: torch.Tensor, anchors: torch.Tensor, out: torch.Tensor) -> None:
        out.copy_(torch.cdist(x, anchors, p=p)).mul_(-1.0 / scale(x.shape[1]))

    return compute


def _unit(anchors: torch.Tensor) -> torch.Tensor:
    return F.normalize(anchors, dim=1, eps=1e-12)


def _identity(anchors: torch.Tensor) -> torch.Tensor:
    return anchors


SIMILARITIES: dict[str, Similarity] = {}


def register_similarity(similarity: Similarity) -> Similarity:
    SIMILARITIES[similarity.name] = similarity
    return similarity


register_similarity(Similarity(
    "cosine", "cos(x, a), in [-1, 1]; the paper's choice",
    frozenset({"rotation", "scale", "permutation"}), _unit, _cosine))
register_similarity(Similarity(
    "angular", "1 - 2·angle(x, a)/π, in [-1, 1]",
    frozenset({"rotation", "scale", "permutation"}), _unit, _angular))
register_similarity(Similarity(
    "euclidean", "-‖x - a‖₂ / √D",
    frozenset({"rotation", "translation", "permutation"}), _identity,
    _distance(2.0, math.sqrt)))
register_similarity(Similarity(
    "l1", "-‖x - a‖₁ / D", frozenset({"translation", "permutation"}), _identity,
    _distance(1.0, float)))
register_similarity(Similarity(
    "linf", "-‖x - a‖∞", frozenset({"translation", "permutation"}), _identity,
    _distance(float("inf"), lambda d: 1.0)))


def get_similarity(name: str) -> Similarity:
    if name not in SIMILARITIES:
        raise StitchError(
            f"unknown similarity {name!r}", hint=f"choose one of {', '.join(SIMILARITIES)}."
        )
    return SIMILARITIES[name]


def relative_projection(
    x: torch.Tensor,
    anchors: torch.Tensor,
    similarity: str = "cosine",
    center: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> torch.Tensor:
    """Relative vectors [N, K] of ``x`` [N, D] against ``anchors`` [K, D].

    ``center`` subtracts the anchors' mean from both sides first, which adds translation
    invariance to cosine. Rows are processed in chunks so memory stays bounded for large N.
    """
    if x.dim() != 2 or anchors.dim() != 2 or x.shape[1] != anchors.shape[1]:
        raise StitchError(
            f"embeddings {tuple(x.shape)} and anchor embeddings {tuple(anchors.shape)} "
            "do not have the same dimension"
        )
    sim = get_similarity(similarity)
    anchors = anchors.float()
    offset = anchors.mean(dim=0, keepdim=True) if center else None
    if offset is not None:
        anchors = anchors - offset
    prepared = sim.prepare(anchors)
    out = torch.empty(x.shape[0], anchors.shape[0], dtype=torch.float32)
    for start in range(0, x.shape[0], chunk_rows):
        chunk = x[start : start + chunk_rows].float()
        if offset is not None:
            chunk = chunk - offset
        sim.compute(chunk, prepared, out[start : start + chunk.shape[0]])
    return out
