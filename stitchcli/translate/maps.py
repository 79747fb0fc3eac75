"""Latent space translation: a map from one encoder's space to another's, fitted on paired anchors."""

from __future__ import annotations

from collections.abc import Callable

import torch

from stitchcli.errors import StitchError

Translator = Callable[[torch.Tensor], torch.Tensor]


def _standardise(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.mean(dim=0), x.std(dim=0).clamp(min=1e-8)


def fit_procrustes(source: torch.Tensor, target: torch.Tensor) -> Translator:
    """Orthogonal map after standard scaling, zero-padding the narrower side (Maiorca et al., 2023).

    With fewer anchors K than dimensions the rotation is only determined on the anchors' span (rank
    at most K - 1 after centring): any rotation of the rest fits the anchors equally well, and an
    SVD picks one by rounding, so results changed with the thread count. We take the polar factor
    restricted to that span (U_r V_r^T over the singular values above rounding level), which is
    unique: the part of a sample outside the anchors' span maps to zero (the target's mean after
    scaling) instead of to an arbitrary direction.
    """
    source, target = source.double(), target.double()
    mu_s, sd_s = _standardise(source)
    mu_t, sd_t = _standardise(target)
    width = max(source.shape[1], target.shape[1])
    zs = torch.nn.functional.pad((source - mu_s) / sd_s, (0, width - source.shape[1]))
    zt = torch.nn.functional.pad((target - mu_t) / sd_t, (0, width - target.shape[1]))
    cross = zs.T @ zt
    u, singular, vh = torch.linalg.svd(cross)
    tolerance = singular.max() * max(cross.shape) * torch.finfo(cross.dtype).eps
    rank = int((singular > tolerance).sum())
    rotation = u[:, :rank] @ vh[:rank]
    out_dim = target.shape[1]

    def translate(x: torch.Tensor) -> torch.Tensor:
        z = torch.nn.functional.pad((x.double() - mu_s) / sd_s, (0, width - x.shape[1]))
        return ((z @ rotation)[:, :out_dim] * sd_t + mu_t).float()

    return translate


def fit_affine(source: torch.Tensor, target: torch.Tensor) -> Translator:
    """Least squares with a bias (minimum-norm solution when anchors are fewer than dimensions)."""
    design = torch.cat([source.double(), torch.ones(len(source), 1, dtype=torch.float64)], dim=1)
    weights = torch.linalg.lstsq(design, target.double(), driver="gelsd").solution

    def translate(x: torch.Tensor) -> torch.Tensor:
        return (x.double() @ weights[:-1] + weights[-1]).float()

    return translate


TRANSLATIONS: dict[str, Callable[[torch.Tensor, torch.Tensor], Translator]] = {
    "procrustes": fit_procrustes,
    "affine": fit_affine,
}


def translation_methods(values: list[str] | None) -> list[str | None]:
    """``--translate`` values, checked: ``none`` (or nothing given) is None, the plain head."""
    methods = [None if value == "none" else value for value in (values or ["none"])]
    for method in methods:
        if method is not None and method not in TRANSLATIONS:
            raise StitchError(f"unknown translation {method!r}",
                              hint=f"choose none, {', '.join(TRANSLATIONS)}.")
    return methods


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x.float()


def fit_translation(method: str, source: torch.Tensor, target: torch.Tensor) -> Translator:
    """Fit ``method`` on paired anchor embeddings: row i of both is the same anchor sample.

    Identical anchor embeddings (the head's own encoder) give exactly the identity, whatever the
    method: a map fitted from a space onto itself can only lose what lies outside the anchors' span.
    """
    if method not in TRANSLATIONS:
        raise StitchError(f"unknown translation {method!r}",
                          hint=f"choose one of none, {', '.join(TRANSLATIONS)}.")
    if source.shape[0] != target.shape[0]:
        raise StitchError("anchor embeddings to translate between have different anchor counts")
    if source.shape == target.shape and torch.equal(source, target):
        return _identity
    return TRANSLATIONS[method](source, target)
