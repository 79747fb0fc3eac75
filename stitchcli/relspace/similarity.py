"""Similarities of samples to anchors (cosine, angular, distances, combinations), chunked over rows."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from stitchcli import events
from stitchcli.errors import StitchError
from stitchcli.relspace.registry import SIMILARITIES

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
    whiten: bool = False  # samples and anchors ZCA-whitened on the anchors first (implies centring)


def _cosine(x: torch.Tensor, anchors_unit: torch.Tensor, out: torch.Tensor) -> None:
    # Scaling the product's rows afterwards is faster than normalising a copy of x first
    # (0.97× vs 0.88× a bare matmul); the clamp keeps zero vectors at 0 instead of NaN.
    torch.mm(x, anchors_unit.T, out=out)
    out.mul_(x.norm(dim=1, keepdim=True).clamp_(min=1e-12).reciprocal_())


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


# Whitening shrinkage: the anchors' covariance gets this multiple of its mean eigenvalue added, so it
# stays invertible with fewer anchors than dimensions (README, "Defaults": 1.0 of 0.01/0.1/1.0).
WHITEN_SHRINKAGE = 1.0


def whitening(anchors: torch.Tensor,
              shrinkage: float = WHITEN_SHRINKAGE) -> tuple[torch.Tensor, torch.Tensor]:
    """The anchors' mean and the ZCA matrix W = (Σ + s·mean(λ)·I)^(-1/2) of their covariance Σ: after
    x → (x - mean) W, any invertible linear map between two encoders' spaces becomes a rotation,
    which cosine ignores."""
    mean = anchors.mean(dim=0, keepdim=True)
    centred = (anchors - mean).double()
    eigenvalues, vectors = torch.linalg.eigh(centred.T @ centred / max(len(anchors), 1))
    eigenvalues = eigenvalues.clamp(min=0)
    ridge = shrinkage * (float(eigenvalues.mean()) or 1.0)
    return mean, ((vectors / torch.sqrt(eigenvalues + ridge)) @ vectors.T).float()


def register_similarity(similarity: Similarity) -> Similarity:
    return SIMILARITIES.register(similarity.name, similarity)


# The built-ins, registered by name in ``relspace.registry`` (imported from here on first use).
COSINE = Similarity(
    "cosine", "cos(x, a), in [-1, 1]; the paper's choice",
    frozenset({"rotation", "scale", "permutation"}), _unit, _cosine)
ANGULAR = Similarity(
    "angular", "1 - 2·angle(x, a)/π, in [-1, 1]",
    frozenset({"rotation", "scale", "permutation"}), _unit, _angular)
WHITENED = Similarity(
    "whitened", "cos(W(x - m), W(a - m)), ZCA-whitened on the anchors (shrunk)",
    frozenset({"rotation", "scale", "permutation", "translation"}), _unit, _cosine, whiten=True)
EUCLIDEAN = Similarity(
    "euclidean", "-‖x - a‖₂ / √D",
    frozenset({"rotation", "translation", "permutation"}), _identity,
    _distance(2.0, math.sqrt))
L1 = Similarity(
    "l1", "-‖x - a‖₁ / D", frozenset({"translation", "permutation"}), _identity,
    _distance(1.0, float))
LINF = Similarity(
    "linf", "-‖x - a‖∞", frozenset({"translation", "permutation"}), _identity,
    _distance(float("inf"), lambda d: 1.0))


def get_similarity(name: str) -> Similarity:
    return SIMILARITIES.get(name)


def parse_similarity(name: str) -> list[Similarity]:
    """``cosine`` or a product of invariances such as ``cosine+euclidean+l1+linf``."""
    parts = [part.strip() for part in name.split("+")]
    if len(set(parts)) != len(parts):
        raise StitchError(f"similarity {name!r} names the same similarity twice")
    return [get_similarity(part) for part in parts]


def invariances_of(name: str) -> frozenset[str]:
    """What the (possibly combined) similarity is invariant to.

    A combination keeps what all its members share, plus rescaling: each block is standardised
    by statistics of the anchors' own block, which scale along with the embeddings.
    """
    members = parse_similarity(name)
    if len(members) == 1:
        return members[0].invariances
    return frozenset.intersection(*(m.invariances for m in members)) | {"scale"}


def _project_one(x: torch.Tensor, prepared: torch.Tensor, sim: Similarity,
                 offset: torch.Tensor | None, chunk_rows: int,
                 linear: torch.Tensor | None = None) -> torch.Tensor:
    out = torch.empty(x.shape[0], prepared.shape[0], dtype=torch.float32)
    for start in range(0, x.shape[0], chunk_rows):
        chunk = x[start : start + chunk_rows].float()
        if offset is not None:
            chunk = chunk - offset
        if linear is not None:
            chunk = chunk @ linear
        sim.compute(chunk, prepared, out[start : start + chunk.shape[0]])
    return out


def _one_point(anchors: torch.Tensor) -> bool:
    """Whether the anchors' embeddings are all (nearly) the same point (one anchor always is)."""
    x = anchors.double()
    if not len(x):
        return False
    return float((x - x.mean(dim=0)).abs().max()) <= 1e-6 * max(1.0, float(x.abs().max()))


class RelativeProjector:
    """Relative vectors against fixed anchors, with everything that depends only on the anchors
    (centring offset, each similarity's prepared anchors, a combination's block statistics)
    computed once: calling it on many chunks of rows repeats none of that work."""

    def __init__(self, anchors: torch.Tensor, similarity: str = "cosine", center: bool = False,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self.members = parse_similarity(similarity)
        self.anchors = anchors.float()
        self.offset = self.anchors.mean(dim=0, keepdim=True) if center else None
        if self.anchors.dim() == 2 and _one_point(self.anchors):
            carry = "nothing (all zero once centred)" if center else "one number"
            events.warn(f"the {len(self.anchors)} anchors are embedded at (nearly) one point: relative "
                        f"vectors against them carry {carry}, so heads reading them predict at or near "
                        "chance (choose more, distinct anchors)")
        shifted = self.anchors if self.offset is None else self.anchors - self.offset
        # Whitened members read (x - mean) W instead: (offset, linear) per member.
        self.affine: list[tuple[torch.Tensor | None, torch.Tensor | None]] = []
        self.prepared = []
        for sim in self.members:
            if sim.whiten:
                mean, linear = whitening(self.anchors)
                self.affine.append((mean, linear))
                self.prepared.append(sim.prepare((self.anchors - mean) @ linear))
            else:
                self.affine.append((self.offset, None))
                self.prepared.append(sim.prepare(shifted))
        self.chunk_rows = chunk_rows
        self.width = len(self.members) * len(self.anchors)
        # Product of invariances (Cannistraci et al., ICLR 2024): one block per similarity, each
        # standardised with the mean and spread of the anchors' own block so no block dominates.
        self.scales: list[tuple[torch.Tensor, torch.Tensor]] = []
        if len(self.members) > 1:
            for sim, prepared, (offset, linear) in zip(self.members, self.prepared, self.affine, strict=True):
                reference = _project_one(self.anchors, prepared, sim, offset, chunk_rows, linear)
                self.scales.append((reference.mean(), reference.std().clamp(min=1e-12)))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or self.anchors.dim() != 2 or x.shape[1] != self.anchors.shape[1]:
            raise StitchError(
                f"embeddings {tuple(x.shape)} and anchor embeddings {tuple(self.anchors.shape)} "
                "do not have the same dimension"
            )
        members = zip(self.members, self.prepared, self.affine, strict=True)
        blocks = [_project_one(x, prepared, sim, offset, self.chunk_rows, linear)
                  for sim, prepared, (offset, linear) in members]
        if not self.scales:
            return blocks[0]
        return torch.cat([block.sub_(mean).div_(std) for block, (mean, std) in zip(blocks, self.scales,
                                                                                  strict=True)], dim=1)


def relative_projection(
    x: torch.Tensor,
    anchors: torch.Tensor,
    similarity: str = "cosine",
    center: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> torch.Tensor:
    """Relative vectors [N, K] of ``x`` [N, D] against ``anchors`` [K, D] ([N, K·m] for a
    combination of m similarities joined by ``+``).

    ``center`` subtracts the anchors' mean from both sides first, which adds translation
    invariance to cosine. Rows are processed in chunks so memory stays bounded for large N.
    For many chunks of rows against the same anchors, build one ``RelativeProjector``.
    """
    if x.dim() != 2 or anchors.dim() != 2 or x.shape[1] != anchors.shape[1]:
        raise StitchError(
            f"embeddings {tuple(x.shape)} and anchor embeddings {tuple(anchors.shape)} "
            "do not have the same dimension"
        )
    return RelativeProjector(anchors, similarity, center, chunk_rows)(x)
