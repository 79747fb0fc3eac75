"""Maps fitted on anchors (ridge recovers a linear map and stays useful with few anchors, auto picks the
family that fits) and their self-learning refinement with unpaired embeddings."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli.translate import choose_translation, fit_refined, fit_translation, mutual_neighbours

from helpers import assert_one_line_error, random_orthogonal, run_cli
from synthetic import ok


# procrustes standardises each coordinate with the anchors' statistics first (Maiorca et al.), which
# sampling noise in 100 anchors bends away from exactly orthogonal; the affine ridge map absorbs it.
@pytest.mark.parametrize(("method", "bound"), [("procrustes", 0.15), ("auto", 0.15)])
def test_maps_recover_an_orthogonal_map_from_anchors(method, bound):
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(300, 20, generator=generator)
    q = random_orthogonal(20, 1)
    target = source @ q
    translate = fit_translation(method, source[:100], target[:100])
    error = (translate(source[100:]) - target[100:]).norm() / target[100:].norm()
    assert error < bound


def test_ridge_keeps_directions_of_an_orthogonal_map():
    # The penalty shrinks lengths (what a classifier's bias is insensitive to), not directions.
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(300, 20, generator=generator)
    target = source @ random_orthogonal(20, 1)
    mapped = fit_translation("ridge", source[:100], target[:100])(source[100:])
    assert float(torch.nn.functional.cosine_similarity(mapped, target[100:]).mean()) > 0.99


def test_ridge_beats_least_squares_with_fewer_noisy_anchors_than_dimensions():
    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(500, 8, generator=generator)  # data on an 8-d subspace of 64-d spaces, plus noise
    source = latent @ torch.randn(8, 64, generator=generator) + torch.randn(500, 64, generator=generator)
    target = latent @ torch.randn(8, 48, generator=generator) + torch.randn(500, 48, generator=generator)
    anchors, held = slice(0, 40), slice(40, None)  # 40 anchors, 64 dimensions: least squares interpolates

    def error(method):
        mapped = fit_translation(method, source[anchors], target[anchors])(source[held])
        return float(((mapped - target[held]) ** 2).mean() / target[held].var(dim=0).mean())

    assert error("ridge") < 0.3
    assert error("ridge") < 0.7 * error("affine")


def test_auto_chooses_ridge_when_the_map_is_not_orthogonal():
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(200, 16, generator=generator)
    stretch = torch.diag(torch.linspace(0.1, 5.0, 16)) @ random_orthogonal(16, 2)
    assert choose_translation(source, source @ stretch) == "ridge"
    assert choose_translation(source, source @ random_orthogonal(16, 3)) in ("procrustes", "ridge")


def _relative_error(translate, source: torch.Tensor, target: torch.Tensor) -> float:
    return float((translate(source) - target).norm() / target.norm())


def clustered(n: int, dim: int, seed: int) -> torch.Tensor:
    """Rows around 40 cluster centres: structure that nearest neighbours can latch onto."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(40, dim, generator=generator) * 3
    return centres[torch.arange(n) % 40] + 0.3 * torch.randn(n, dim, generator=generator)


def test_mutual_neighbours_find_the_pairs_of_a_permuted_copy():
    a = clustered(500, 16, 0)
    order = torch.randperm(500, generator=torch.Generator().manual_seed(1))
    i, j, score = mutual_neighbours(a, a[order])
    assert len(i) == 500 and torch.equal(order[j], i) and bool((score > 0.99).all())


def test_refinement_recovers_an_orthogonal_map_from_few_anchors_and_unpaired_rows():
    dim = 32
    source = clustered(3000, dim, 0)
    q = random_orthogonal(dim, 1)
    target = source @ q
    anchors = torch.arange(12)  # 12 anchors for 32 dimensions: most of the map is undetermined
    pool_s, pool_t = source[1000:2000], target[2000:3000]  # unpaired: other samples on each side
    held_s, held_t = source[12:1000], target[12:1000]
    plain = fit_translation("procrustes", source[anchors], target[anchors])
    refined = fit_refined("procrustes", source[anchors], target[anchors], pool_s, pool_t, iterations=4)
    before, after = _relative_error(plain, held_s, held_t), _relative_error(refined, held_s, held_t)
    assert after < 0.2 < before
    assert after < before / 2


@pytest.mark.parametrize("method", ["procrustes", "ridge"])
def test_refinement_is_never_worse_than_none_on_a_well_anchored_map(method):
    dim = 16
    source = clustered(2000, dim, 2)
    target = source @ random_orthogonal(dim, 3) + 0.05 * torch.randn(2000, dim, generator=torch.Generator().manual_seed(4))
    anchors = torch.arange(200)
    held = slice(1000, 2000)
    plain = fit_translation(method, source[anchors], target[anchors])
    refined = fit_refined(method, source[anchors], target[anchors], source[200:1000], target[200:1000])
    assert _relative_error(refined, source[held], target[held]) <= _relative_error(plain, source[held], target[held]) + 1e-3


@pytest.mark.parametrize("method", ["ridge", "procrustes", "affine", "auto"])
def test_the_same_encoder_up_to_float_noise_is_read_as_it_is(method):
    generator = torch.Generator().manual_seed(0)
    anchors = torch.randn(50, 16, generator=generator)
    rows = torch.randn(20, 16, generator=generator)
    noisy = anchors + 1e-7 * torch.randn(50, 16, generator=generator)  # another batching of the same model
    assert torch.equal(fit_translation(method, noisy, anchors)(rows), rows)
    assert not torch.equal(fit_translation(method, anchors * 1.01, anchors)(rows), rows)


@pytest.mark.parametrize("method", ["ridge", "procrustes", "auto"])
def test_a_channel_dead_on_the_anchors_is_not_blown_up_on_other_rows(method):
    """A CNN's dead channel: spread 1e-6 on the anchors, 1e-2 on other rows. Divided by its own spread it
    turned into values of 1e4 and spoiled every mapped row; now it barely moves them."""
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(80, 16, generator=generator)
    target = source @ torch.randn(16, 12, generator=generator)
    samples = torch.randn(40, 16, generator=generator)
    dead_source, dead_samples = source.clone(), samples.clone()
    dead_source[:, 0] = 1e-6 * torch.randn(80, generator=generator)
    dead_samples[:, 0] = 1e-2 * torch.randn(40, generator=generator)
    clean = fit_translation(method, source[:, 1:], target)(samples[:, 1:])
    mapped = fit_translation(method, dead_source, target)(dead_samples)
    assert torch.isfinite(mapped).all()
    assert float((mapped - clean).norm() / clean.norm()) < 0.05


@pytest.mark.parametrize("method", ["procrustes", "affine"])
def test_translation_recovers_a_rotation(method):
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(300, 16, generator=generator)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=generator))
    target = 2.0 * source @ q + 1.0
    translate = fit_translation(method, source[:100], target[:100])
    mapped = translate(source[100:])
    if method == "affine":  # exact for an affine relation
        assert torch.allclose(mapped, target[100:], atol=1e-3)
    # Procrustes standard-scales each dimension first, so it recovers the map up to the
    # sampling noise of those per-dimension statistics.
    error = (mapped - target[100:]).norm(dim=1) / (target[100:] - 1.0).norm(dim=1)
    assert float(error.mean()) < 0.2


def test_procrustes_between_different_widths_runs():
    source, target = torch.randn(50, 8), torch.randn(50, 12)
    assert fit_translation("procrustes", source, target)(torch.randn(3, 8)).shape == (3, 12)


def test_evaluate_with_translation_rescues_the_absolute_head(world):
    files, heads = world["files"], world["heads"]
    results = json.loads(ok("evaluate", "--json", "--head", heads["absolute"], "--head", heads["relative"],
                            "--embeddings", files["testA"], "--embeddings", files["testB"],
                            "--embeddings", files["testC"],
                            "--translate", "none", "--translate", "procrustes", "--skip-incompatible"))["results"]
    cell = {(r["space"], r["method"], r["encoder"]): r for r in results}
    own = cell["absolute", "absolute", "synth:A"]["accuracy"]
    assert cell["absolute", "absolute", "synth:B"]["accuracy"] < 0.5
    assert cell["absolute", "procrustes", "synth:B"]["accuracy"] > own - 0.05
    assert cell["absolute", "procrustes", "synth:A"]["accuracy"] == pytest.approx(own, abs=0.02)
    assert ("absolute", "procrustes", "synth:C") in cell  # other width: translation still runs
    assert ("absolute", "absolute", "synth:C") not in cell
    assert {r["method"] for r in results if r["space"] == "relative"} == {"relative"}


def test_unknown_translation_is_refused(world):
    result = run_cli("evaluate", "--head", world["heads"]["absolute"], "--embeddings", world["files"]["testB"],
                     "--translate", "magic")
    assert_one_line_error(result, "unknown translation")

