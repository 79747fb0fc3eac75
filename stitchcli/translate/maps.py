"""Latent space translation: a map from one encoder's space to another's, fitted on paired anchors."""

from __future__ import annotations

from collections.abc import Callable

import torch

from stitchcli import events
from stitchcli.defaults import MIN_RELATIVE_SPREAD
from stitchcli.errors import StitchError
from stitchcli.translate.registry import NO_MAP, TRANSLATIONS

Translator = Callable[[torch.Tensor], torch.Tensor]


def standardise(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each column's mean and spread; no column is divided by less than ``MIN_RELATIVE_SPREAD`` of
    the typical spread (a column nearly constant on the anchors is not blown up on other rows)."""
    spread = x.std(dim=0)
    typical = float(spread.pow(2).mean().sqrt())
    return x.mean(dim=0), spread.clamp(min=max(1e-8, MIN_RELATIVE_SPREAD * typical))


def _scaled(source: torch.Tensor, target: torch.Tensor):
    source, target = source.double(), target.double()
    mu_s, sd_s = standardise(source)
    mu_t, sd_t = standardise(target)
    return (source - mu_s) / sd_s, (target - mu_t) / sd_t, (mu_s, sd_s, mu_t, sd_t)


def fit_procrustes(source: torch.Tensor, target: torch.Tensor) -> Translator:
    """Orthogonal map after standard scaling, zero-padding the narrower side (Maiorca et al., 2023).

    With fewer anchors K than dimensions the rotation is only determined on the anchors' span (rank
    at most K - 1 after centring): any rotation of the rest fits the anchors equally well, and an
    SVD picks one by rounding, so results changed with the thread count. We take the polar factor
    restricted to that span (U_r V_r^T over the singular values above rounding level), which is
    unique: the part of a sample outside the anchors' span maps to zero (the target's mean after
    scaling) instead of to an arbitrary direction.
    """
    zs, zt, (mu_s, sd_s, mu_t, sd_t) = _scaled(source, target)
    width = max(source.shape[1], target.shape[1])
    zs = torch.nn.functional.pad(zs, (0, width - source.shape[1]))
    zt = torch.nn.functional.pad(zt, (0, width - target.shape[1]))
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


# The ridge penalty, as a multiple of the mean eigenvalue of the anchors' Gram matrix (so it does not
# depend on the width or the scale of either space). Chosen on validation rows of every real pair
# (README, "Defaults"): 1.0 had the best worst pair on digits and clip art and was within 0.01 of
# the best mean there; text preferred 3-10 (worst pair 0.96-0.98 of probe against 0.94 at 1.0),
# where clip art fell to 0.85. The strength of least leave-one-out error on the anchors lost by up to
# 0.26 at the worst pair (digits): it fits the anchors' embeddings, not the classes.
RIDGE_STRENGTH = 1.0


def fit_ridge(source: torch.Tensor, target: torch.Tensor, strength: float = RIDGE_STRENGTH) -> Translator:
    """An affine map with a ridge penalty on standardised anchors, solved in the anchors' dual (K×K):
    regularised, so it stays defined and useful with fewer anchors than dimensions, where plain
    least squares interpolates the anchors (``affine``)."""
    zs, zt, (mu_s, sd_s, mu_t, sd_t) = _scaled(source, target)
    eigenvalues, vectors = torch.linalg.eigh(zs @ zs.T)
    eigenvalues = eigenvalues.clamp(min=0)
    alpha = strength * (float(eigenvalues.mean()) or 1.0)
    weights = zs.T @ (vectors @ ((vectors.T @ zt) / (eigenvalues + alpha)[:, None]))

    def translate(x: torch.Tensor) -> torch.Tensor:
        return ((((x.double() - mu_s) / sd_s) @ weights) * sd_t + mu_t).float()

    return translate


def prediction_error(translate: Translator, source: torch.Tensor, target: torch.Tensor,
                     scale: torch.Tensor) -> float:
    """Mean squared error of ``translate(source)`` against ``target``, each coordinate divided by
    ``scale`` (the target's spread): how well a map predicts anchors it was not fitted on."""
    return float((((translate(source).double() - target.double()) / scale) ** 2).mean())


AUTO_FOLDS = 5


def choose_translation(source: torch.Tensor, target: torch.Tensor,
                       candidates: tuple[str, ...] = ("procrustes", "ridge")) -> str:
    """The map family that best predicts held-out anchors' embeddings (5-fold cross-validation on
    the anchors, squared error in the target's standardised space): chosen per pair, without labels."""
    count = len(source)
    if count < 2 * AUTO_FOLDS:
        return candidates[0]
    order = torch.randperm(count, generator=torch.Generator().manual_seed(0))
    scale = target.double().std(dim=0).clamp(min=1e-8)
    errors = dict.fromkeys(candidates, 0.0)
    for fold in range(AUTO_FOLDS):
        held = order[fold::AUTO_FOLDS]
        keep = torch.ones(count, dtype=torch.bool)
        keep[held] = False
        for name in candidates:
            fitted = TRANSLATIONS[name](source[keep], target[keep])
            errors[name] += prediction_error(fitted, source[held], target[held], scale)
    return min(candidates, key=lambda name: errors[name])


def fit_auto(source: torch.Tensor, target: torch.Tensor) -> Translator:
    """``procrustes`` or ``ridge``, whichever predicts held-out anchors better for this pair."""
    return TRANSLATIONS[choose_translation(source, target)](source, target)


def translation_methods(values: list[str] | None) -> list[str | None]:
    """``--translate`` values, checked: ``none`` (or nothing given) is None, the plain head."""
    methods = [None if value == NO_MAP else value for value in (values or [NO_MAP])]
    for method in methods:
        if method is not None:
            TRANSLATIONS.get(method)  # an unknown name: one line with the choices
    return methods


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x.float()


def fit_translation(method: str, source: torch.Tensor, target: torch.Tensor) -> Translator:
    """Fit ``method`` on paired anchor embeddings: row i of both is the same anchor sample.

    Identical anchor embeddings (the head's own encoder) give exactly the identity, whatever the
    method: a map fitted from a space onto itself can only lose what lies outside the anchors' span
    (and a ridge map shrinks). Identical means equal up to float noise: the same encoder run on the
    anchors in other batches (a test file's embed) differs from the train file's in the last bits.
    """
    fit = TRANSLATIONS.get(method)
    if source.shape[0] != target.shape[0]:
        raise StitchError("anchor embeddings to translate between have different anchor counts")
    if same_space(source, target):
        return _identity
    check_anchor_count(len(source), method)
    for side, anchors in (("source", source), ("target", target)):
        if not bool(torch.isfinite(anchors).all()):
            raise StitchError(f"the {side} encoder's anchor embeddings hold NaN or infinite values",
                              hint="embed the anchors again.")
        if degenerate(anchors):
            events.warn(f"the {side} encoder embeds all {len(anchors)} anchors (nearly) identically: a "
                        f"{method} map fitted on them sends every row to one point, so stitched "
                        "predictions are at chance (choose other anchors: distinct samples)")
    return fit(source, target)


def same_space(source: torch.Tensor, target: torch.Tensor) -> bool:
    """Whether two anchor embeddings are one encoder's (equal up to float noise): a map between them is
    the identity."""
    return source.shape == target.shape and torch.allclose(source.float(), target.float(),
                                                           rtol=1e-4, atol=1e-6)


MIN_ANCHORS = 2  # a map is fitted on the anchors' spread around their mean: one anchor has none


def check_anchor_count(count: int, method: str = "translation") -> None:
    """Refuse fitting a map on fewer anchors than ``MIN_ANCHORS`` (one line, with the number)."""
    if count < MIN_ANCHORS:
        raise StitchError(f"a {method} map needs at least {MIN_ANCHORS} anchors, got {count}",
                          hint="choose more anchors with `stitch anchors --num K`.")


def degenerate(anchors: torch.Tensor) -> bool:
    """Whether the anchors' embeddings are all (nearly) the same point: no spread to fit a map on."""
    x = anchors.double()
    spread = float((x - x.mean(dim=0)).abs().max()) if len(x) else 0.0
    return spread <= 1e-6 * max(1.0, float(x.abs().max()) if x.numel() else 0.0)
