"""Latent space translation: a map from one encoder's space to another's, fitted on paired anchors."""

from __future__ import annotations

from collections.abc import Callable

import torch

from stitchcli.errors import StitchError

Translator = Callable[[torch.Tensor], torch.Tensor]


def _standardise(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.mean(dim=0), x.std(dim=0).clamp(min=1e-8)


def fit_procrustes(source: torch.Tensor, target: torch.Tensor) -> Translator:
    """Orthogonal map after standard scaling, zero-padding the narrower side (Maiorca et al., 2023)."""
    source, target = source.double(), target.double()
    mu_s, sd_s = _standardise(source)
    mu_t, sd_t = _standardise(target)
    width = max(source.shape[1], target.shape[1])
    zs = torch.nn.functional.pad((source - mu_s) / sd_s, (0, width - source.shape[1]))
    zt = torch.nn.functional.pad((target - mu_t) / sd_t, (0, width - target.shape[1]))
    u, _, vh = torch.linalg.svd(zs.T @ zt)
    rotation = u @ vh
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


def fit_translation(method: str, source: torch.Tensor, target: torch.Tensor) -> Translator:
    """Fit ``method`` on paired anchor embeddings: row i of both is the same anchor sample."""
    if method not in TRANSLATIONS:
        raise StitchError(f"unknown translation {method!r}",
                          hint=f"choose one of none, {', '.join(TRANSLATIONS)}.")
    if source.shape[0] != target.shape[0]:
        raise StitchError("anchor embeddings to translate between have different anchor counts")
    return TRANSLATIONS[method](source, target)
