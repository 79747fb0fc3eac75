"""How alike two latent spaces are: linear CKA, paired cosine, neighbour Jaccard and partner MRR."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stitchcli.errors import IncompatibleError
from stitchcli.heads.inputs import FileInputs
from stitchcli.metadata import EmbeddingsMeta
from stitchcli.relspace import RelativeTransform
from stitchcli.storage.rows import RowReader

CHUNK_ROWS = 4096


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear centred kernel alignment (Kornblith et al., 2019), in [0, 1]; dimensions may differ."""
    x = (x - x.mean(dim=0)).double()
    y = (y - y.mean(dim=0)).double()
    cross = torch.linalg.matrix_norm(y.T @ x) ** 2
    norm = torch.linalg.matrix_norm(x.T @ x) * torch.linalg.matrix_norm(y.T @ y)
    return float(cross / norm) if norm > 0 else 0.0


def mean_paired_cosine(x: torch.Tensor, y: torch.Tensor) -> float:
    return float(F.cosine_similarity(x.float(), y.float(), dim=1, eps=1e-12).mean())


def _neighbours(x: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of each row's k most cosine-similar other rows."""
    unit = F.normalize(x.float(), dim=1, eps=1e-12)
    out = torch.empty(len(x), k, dtype=torch.long)
    for start in range(0, len(x), CHUNK_ROWS):
        sims = unit[start : start + CHUNK_ROWS] @ unit.T
        rows = torch.arange(start, start + len(sims))
        sims[torch.arange(len(sims)), rows] = -float("inf")  # a sample is not its own neighbour
        out[start : start + len(sims)] = sims.topk(k, dim=1).indices
    return out


def neighbour_jaccard(x: torch.Tensor, y: torch.Tensor, k: int) -> float:
    """Mean Jaccard index of each sample's top-k neighbours in the two spaces."""
    nx, ny = _neighbours(x, k), _neighbours(y, k)
    scores = []
    for a, b in zip(nx.tolist(), ny.tolist(), strict=True):
        shared = len(set(a) & set(b))
        scores.append(shared / (2 * k - shared))
    return sum(scores) / len(scores)


def partner_mrr(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean reciprocal rank of y_i among all y when ranked by cosine similarity to x_i."""
    ux = F.normalize(x.float(), dim=1, eps=1e-12)
    uy = F.normalize(y.float(), dim=1, eps=1e-12)
    total = 0.0
    for start in range(0, len(x), CHUNK_ROWS):
        sims = ux[start : start + CHUNK_ROWS] @ uy.T
        own = sims[torch.arange(len(sims)), torch.arange(start, start + len(sims))]
        ranks = (sims > own[:, None]).sum(dim=1) + 1
        total += float((1.0 / ranks.double()).sum())
    return total / len(x)


def space_metrics(x: torch.Tensor, y: torch.Tensor, k: int) -> dict:
    same_width = x.shape[1] == y.shape[1]
    return {
        "cka": linear_cka(x, y),
        "cosine": mean_paired_cosine(x, y) if same_width else None,
        "jaccard": neighbour_jaccard(x, y, k),
        "mrr": partner_mrr(x, y) if same_width else None,
    }


def sample_positions(n: int, max_samples: int | None, seed: int = 0) -> torch.Tensor:
    """All rows, or a seeded sample of ``max_samples`` of them (in file order)."""
    if max_samples is None or n <= max_samples:
        return torch.arange(n)
    chosen = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:max_samples]
    return chosen.sort().values


def compare_files(a: RowReader, b: RowReader, k: int, normalize: str = "file",
                  max_samples: int | None = None) -> dict:
    """Metrics for the absolute embeddings and the relative vectors of the same samples; with
    ``normalize`` other than none, also for the relative vectors as a head of that setting reads them
    (standardised with the statistics of each whole file).

    Neighbour metrics compare every pair of samples, so at most ``max_samples`` rows (a seeded
    sample, the same rows of both files) are read. Raw relative vectors of all samples share a large
    common component (every sample is similar to every anchor to some degree), which hides their
    differences from nearest-neighbour metrics; per-anchor standardisation removes it."""
    meta_a, meta_b = EmbeddingsMeta.of(a), EmbeddingsMeta.of(b)
    if meta_a.dataset_fingerprint != meta_b.dataset_fingerprint or not torch.equal(
            a.read("indices"), b.read("indices")):
        raise IncompatibleError(
            f"{a.path} and {b.path} do not hold the same samples (other source or rows)",
            hint="embed the same dataset (and --limit) with both encoders.",
        )
    rows = sample_positions(a.num_rows, max_samples)
    n = len(rows)
    if not 1 <= k < n:
        raise IncompatibleError(f"--k must be between 1 and {n - 1} for {n} samples, got {k}")
    result = {"absolute": space_metrics(a.take("embeddings", rows), b.take("embeddings", rows), k),
              "relative": dict.fromkeys(("cka", "cosine", "jaccard", "mrr")), "k": k, "num_samples": n}
    if n < a.num_rows:
        result["sampled_from"] = a.num_rows
    if a.has("relative") and b.has("relative"):
        spec_a, spec_b = meta_a.relative, meta_b.relative
        for key in ("anchors_fingerprint", "similarity", "center"):
            value_a = spec_a.to_metadata()[key] if spec_a is not None else None
            value_b = spec_b.to_metadata()[key] if spec_b is not None else None
            if value_a != value_b:
                raise IncompatibleError(
                    f"{a.path} and {b.path} have relative vectors with another {key.replace('_', ' ')} "
                    f"({value_a} vs {value_b})",
                    hint="embed both with the same --anchors and --similarity.",
                )
        result["relative"] = space_metrics(a.take("relative", rows), b.take("relative", rows), k)
        if normalize != "none":
            transform = RelativeTransform(normalize).check()
            inputs = [FileInputs(file, "relative", transform).take(rows) for file in (a, b)]
            result["relative_normalized"] = {**space_metrics(*inputs, k), "normalize": normalize}
    return result
