"""The math: relative vectors are invariant to what each similarity promises, and only that."""

from __future__ import annotations

import pytest
import torch

from stitchcli.errors import StitchError
from stitchcli.relspace import SIMILARITIES, invariances_of, relative_projection

from helpers import random_orthogonal

COMBINED = ["cosine+euclidean", "euclidean+l1+linf", "cosine+euclidean+l1+linf"]


def transforms(dim: int):
    permutation = torch.randperm(dim, generator=torch.Generator().manual_seed(3))
    shift = torch.randn(dim, generator=torch.Generator().manual_seed(4)) * 3
    return {
        "rotation": lambda x: x @ random_orthogonal(dim, 1),
        "scale": lambda x: x * 7.5,
        "permutation": lambda x: x[:, permutation],
        "translation": lambda x: x + shift,
    }


@pytest.fixture
def space():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(200, 16, generator=generator), torch.randn(10, 16, generator=generator)


@pytest.mark.parametrize("similarity", sorted(SIMILARITIES) + COMBINED)
@pytest.mark.parametrize("transform", ["rotation", "scale", "permutation", "translation"])
def test_invariance_is_exactly_what_is_promised(space, similarity, transform):
    x, anchors = space
    apply = transforms(x.shape[1])[transform]
    before = relative_projection(x, anchors, similarity)
    after = relative_projection(apply(x), apply(anchors), similarity)
    unchanged = torch.allclose(before, after, atol=1e-4, rtol=1e-4)
    assert unchanged == (transform in invariances_of(similarity))


def test_centering_adds_translation_invariance_to_cosine(space):
    x, anchors = space
    shift = torch.full((16,), 5.0)
    before = relative_projection(x, anchors, "cosine", center=True)
    after = relative_projection(x + shift, anchors + shift, "cosine", center=True)
    assert torch.allclose(before, after, atol=1e-4)
    assert not torch.allclose(relative_projection(x, anchors), relative_projection(x + shift, anchors + shift),
                              atol=1e-2)


def test_rotation_and_scale_together_with_cosine(space):
    x, anchors = space
    q = random_orthogonal(16, 9)
    transformed = relative_projection(0.01 * x @ q, 0.01 * anchors @ q)
    assert torch.allclose(relative_projection(x, anchors), transformed, atol=1e-5)


def test_cosine_matches_definition(space):
    x, anchors = space
    expected = torch.nn.functional.cosine_similarity(x[:, None, :], anchors[None, :, :], dim=-1)
    assert torch.allclose(relative_projection(x, anchors), expected, atol=1e-5)


@pytest.mark.parametrize("similarity", sorted(SIMILARITIES))
def test_zero_vectors_give_no_nan(similarity):
    x = torch.zeros(3, 8)
    anchors = torch.cat([torch.zeros(1, 8), torch.ones(2, 8)])
    assert torch.isfinite(relative_projection(x, anchors, similarity)).all()


@pytest.mark.parametrize("similarity", sorted(SIMILARITIES) + COMBINED)
def test_chunking_does_not_change_results(space, similarity):
    x, anchors = space
    whole = relative_projection(x, anchors, similarity, chunk_rows=10_000)
    chunked = relative_projection(x, anchors, similarity, chunk_rows=7)
    assert torch.allclose(whole, chunked, atol=1e-6)


def test_distances_are_scaled_and_bounded():
    x = torch.randn(50, 64)
    for name in ("euclidean", "l1"):
        values = relative_projection(x, x[:5], name)
        assert values.max() <= 1e-5 and values.min() > -3  # self-distance 0, typical ~ -1.4


def test_combined_similarity_concatenates_standardised_blocks(space):
    x, anchors = space
    combined = relative_projection(x, anchors, "cosine+linf")
    assert combined.shape == (200, 20)
    cosine = relative_projection(x, anchors, "cosine")
    # The first block is cosine up to the anchors' standardisation: perfectly correlated.
    correlation = torch.corrcoef(torch.stack([combined[:, :10].flatten(), cosine.flatten()]))[0, 1]
    assert correlation > 0.9999
    # Neither block dominates: similar spreads.
    assert 0.3 < combined[:, :10].std() / combined[:, 10:].std() < 3


@pytest.mark.parametrize("name", ["cosine+dot", "cosine+cosine", "+"])
def test_bad_combinations_are_refused(space, name):
    with pytest.raises(StitchError):
        relative_projection(*space, name)


def test_whitening_undoes_most_of_an_invertible_linear_map():
    # Exact invariance holds for rotation, scale, permutation and translation (above); a general
    # linear map is undone up to the shrinkage that keeps the anchors' covariance invertible.
    generator = torch.Generator().manual_seed(5)
    x, anchors = torch.randn(300, 12, generator=generator), torch.randn(200, 12, generator=generator)
    stretch = torch.randn(12, 12, generator=generator) @ torch.diag(torch.linspace(0.2, 5.0, 12))
    errors = {}
    for similarity in ("cosine", "whitened"):
        before = relative_projection(x, anchors, similarity, center=True)
        after = relative_projection(x @ stretch, anchors @ stretch, similarity, center=True)
        errors[similarity] = float((before - after).abs().mean())
    assert errors["whitened"] < 0.8 * errors["cosine"]
    # Without shrinkage the map is undone exactly: the whitened samples' cosines are the same.
    from stitchcli.relspace.similarity import whitening

    def cosines(points, reference):
        mean, linear = whitening(reference, shrinkage=1e-6)
        unit = torch.nn.functional.normalize((points - mean) @ linear, dim=1)
        return unit @ unit.T

    assert torch.allclose(cosines(x, anchors), cosines(x @ stretch, anchors @ stretch), atol=1e-2)
