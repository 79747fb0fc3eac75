"""Research methods for maps fitted with few or no shared samples, measured by anchor_budget.py (none won a
place in stitchcli: see the README, "Few anchors")."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stitchcli.translate.maps import fit_translation
from stitchcli.translate.refine import fit_refined, mutual_neighbours


def _relative(pool: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    centre = anchors.mean(dim=0)
    r = F.normalize(pool - centre, dim=1, eps=1e-12) @ F.normalize(anchors - centre, dim=1, eps=1e-12).T
    return (r - r.mean(dim=0)) / r.std(dim=0).clamp(min=1e-8)


def relative_pairs(source_anchors, target_anchors, source_pool, target_pool):
    """Pseudo-pairs of unpaired rows: mutual nearest neighbours of their relative vectors (cosines to
    each side's own anchors), which are (nearly) the same for one sample across encoders."""
    return mutual_neighbours(_relative(source_pool, source_anchors), _relative(target_pool, target_anchors))


def ridge(sa, ta, sp, tp, seed):
    return fit_translation("ridge", sa, ta)


def procrustes(sa, ta, sp, tp, seed):
    return fit_translation("procrustes", sa, ta)


def ridge_refine(sa, ta, sp, tp, seed):
    return fit_refined("ridge", sa, ta, sp, tp, 3, seed)


def relmatch(sa, ta, sp, tp, seed, method="ridge", rounds=3):
    i, j, _ = relative_pairs(sa, ta, sp, tp)
    s, t = torch.cat([sa, sp[i]]), torch.cat([ta, tp[j]])
    translate = fit_translation(method, s, t)
    for _ in range(rounds):
        i, j, _ = mutual_neighbours(translate(sp), tp)
        translate = fit_translation(method, torch.cat([sa, sp[i]]), torch.cat([ta, tp[j]]))
    return translate


def relmatch0(sa, ta, sp, tp, seed):
    return relmatch(sa, ta, sp, tp, seed, rounds=0)


def _kmeans(x, k, seed, iterations=30):
    g = torch.Generator().manual_seed(seed)
    centres = x[torch.randperm(len(x), generator=g)[:1]]
    for _ in range(k - 1):  # k-means++
        d = torch.cdist(x, centres).min(dim=1).values ** 2
        centres = torch.cat([centres, x[torch.multinomial(d / d.sum(), 1, generator=g)]])
    for _ in range(iterations):
        assign = torch.cdist(x, centres).argmin(dim=1)
        for c in range(k):
            members = x[assign == c]
            if len(members):
                centres[c] = members.mean(dim=0)
    return centres


def matched_centroids(source_pool, target_pool, k=24, seed=0, restarts=64):
    """Pseudo-anchors without pairs: k-means centroids of each pool (centred, unit rows), matched by
    the quadratic assignment that best aligns their cosine matrices (scipy's FAQ, restarted)."""
    import numpy as np
    from scipy.optimize import quadratic_assignment

    xs, xt = _unit_centred(source_pool.double()), _unit_centred(target_pool.double())
    cs, ct = _kmeans(xs, k, seed), _kmeans(xt, k, seed + 1)
    gs = (F.normalize(cs, dim=1) @ F.normalize(cs, dim=1).T).numpy()
    gt = (F.normalize(ct, dim=1) @ F.normalize(ct, dim=1).T).numpy()
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(restarts):
        r = quadratic_assignment(
            gs, gt, method="faq", options={"maximize": True, "P0": "randomized", "rng": rng}
        )
        if best is None or r.fun > best.fun:
            best = r
    return cs, ct[torch.as_tensor(best.col_ind)], best.fun


def _unit_centred(x):
    return F.normalize(x - x.mean(dim=0), dim=1, eps=1e-12)


def unpaired(sa, ta, sp, tp, seed, k=24):
    cs, ct, _ = matched_centroids(sp, tp, k, seed)
    us, ut = _unit_centred(sp.double()), _unit_centred(tp.double())
    i, j, _ = relative_pairs(cs, ct, us, ut)
    return fit_translation("ridge", sp[i], tp[j])


def cluster_refine(sa, ta, sp, tp, seed, k=40, rounds=5, method="ridge", weight=1):
    """Refinement with cluster-level pseudo-pairs: k-means centroids of each pool, matched one to one
    (Hungarian) between the mapped source centroids and the target's, become extra pairs."""
    from scipy.optimize import linear_sum_assignment

    cs, ct = _kmeans(sp.double(), k, seed).float(), _kmeans(tp.double(), k, seed + 1).float()
    translate = fit_translation(method, sa, ta)
    scale = tp.std(dim=0).clamp(min=1e-6)
    for _ in range(rounds):
        cost = torch.cdist(translate(cs) / scale, ct / scale)
        rows, cols = linear_sum_assignment(cost.numpy())
        s = torch.cat([sa] + [cs[rows]] * weight)
        t = torch.cat([ta] + [ct[cols]] * weight)
        translate = fit_translation(method, s, t)
    return translate
