"""The relative-space transforms heads apply: per-anchor standardisation and sparse top-k."""

from __future__ import annotations

import pytest
import torch

from stitchcli.errors import StitchError
from stitchcli.relspace import RelativeTransform, anchor_self_relative, column_statistics, relative_projection
from stitchcli.relspace.normalize import standardise_
from stitchcli.relspace.sparse import sparsify_topk_
from stitchcli.storage import store

from helpers import random_orthogonal, run_cli

TRANSFORMS = [RelativeTransform("file"), RelativeTransform("anchors"), RelativeTransform("none", 8, 2.0),
              RelativeTransform("file", 8, 3.0)]


def spaces():
    """Encoder A and B = 4.2·A·Q: cosines to the anchors are the same in both."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(300, 24, generator=generator) + 0.5
    anchors = x[:40]
    q = random_orthogonal(24, 5)
    return (x, anchors), (4.2 * x @ q, 4.2 * anchors @ q)


def inputs(transform: RelativeTransform, x: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    return transform.apply(relative_projection(x, anchors),
                           anchor_self_relative(anchors, "cosine", False))


@pytest.mark.parametrize("transform", TRANSFORMS, ids=RelativeTransform.describe)
def test_transforms_keep_rotation_and_scale_invariance(transform):
    (xa, aa), (xb, ab) = spaces()
    assert torch.allclose(inputs(transform, xa, aa), inputs(transform, xb, ab), atol=1e-4)


def test_file_normalisation_removes_each_anchors_offset_and_spread():
    # Another encoder whose cosines to anchor j sit in another range (a_j·cos + b_j, a_j > 0) reads the same.
    (x, anchors), _ = spaces()
    relative = relative_projection(x, anchors)
    generator = torch.Generator().manual_seed(1)
    scale, shift = torch.rand(40, generator=generator) + 0.2, torch.randn(40, generator=generator)
    same = RelativeTransform("file").apply(relative)
    assert torch.allclose(same, RelativeTransform("file").apply(relative * scale + shift), atol=1e-4)
    assert torch.allclose(same.mean(dim=0), torch.zeros(40), atol=1e-5)
    assert torch.allclose(same.std(dim=0, unbiased=False), torch.ones(40), atol=1e-4)
    assert not torch.allclose(RelativeTransform().apply(relative),
                              RelativeTransform().apply(relative * scale + shift), atol=1e-2)


@pytest.mark.parametrize("chunk_rows", [1, 7, 64, 100_000])
def test_statistics_and_standardisation_do_not_depend_on_chunking(chunk_rows):
    x = torch.randn(257, 33, generator=torch.Generator().manual_seed(2)) * 3 + 1
    mean, std = column_statistics(x)
    chunked_mean, chunked_std = column_statistics(x, chunk_rows=chunk_rows)
    assert torch.allclose(mean, chunked_mean, atol=1e-6) and torch.allclose(std, chunked_std, atol=1e-6)
    assert torch.allclose(mean, x.mean(dim=0), atol=1e-5)
    assert torch.allclose(std, x.std(dim=0, unbiased=False), atol=1e-5)
    whole = standardise_(x.clone(), mean, std)
    assert torch.allclose(whole, standardise_(x.clone(), mean, std, chunk_rows=chunk_rows))
    assert torch.allclose(sparsify_topk_(x.clone(), 5, 2.0), sparsify_topk_(x.clone(), 5, 2.0, chunk_rows))


def test_a_sample_reads_the_same_alone_or_in_any_file_with_anchor_statistics():
    (x, anchors), _ = spaces()
    transform = RelativeTransform("anchors")
    whole = inputs(transform, x, anchors)
    assert torch.allclose(whole[5:6], inputs(transform, x[5:6], anchors), atol=1e-6)
    assert torch.allclose(whole[100:], inputs(transform, x[100:], anchors), atol=1e-6)


def test_anchor_statistics_leave_out_self_similarity():
    anchors = torch.randn(30, 8, generator=torch.Generator().manual_seed(3))
    square = relative_projection(anchors, anchors)
    mean, _ = column_statistics(square, exclude_diagonal=True)
    off = square[~torch.eye(30, dtype=torch.bool)].reshape(30, 29)  # row i without column i
    # Column j without its own entry equals row j without its own entry (cosine is symmetric).
    assert torch.allclose(mean, off.mean(dim=1), atol=1e-5)


def test_file_normalisation_refuses_a_single_sample():
    with pytest.raises(StitchError, match="from 1 value") as caught:
        RelativeTransform("file").apply(torch.randn(1, 10))
    assert "normalize anchors" in caught.value.hint


def test_topk_keeps_the_k_largest_sharpened_and_unit_length():
    x = torch.rand(50, 20, generator=torch.Generator().manual_seed(4)) + 0.01
    out = RelativeTransform("none", 4, 2.0).apply(x)
    assert ((out > 0).sum(dim=1) == 4).all()
    assert torch.allclose(out.norm(dim=1), torch.ones(50), atol=1e-5)
    top = x.topk(4, dim=1)
    expected = torch.zeros_like(x).scatter_(1, top.indices, top.values.square())
    assert torch.allclose(out, expected / expected.norm(dim=1, keepdim=True), atol=1e-6)
    assert torch.equal(out, RelativeTransform("none", 4, 2.0).apply(x))  # deterministic


def test_topk_of_non_positive_rows_is_zero_not_nan():
    out = RelativeTransform("none", 3).apply(-torch.rand(4, 10))
    assert torch.equal(out, torch.zeros(4, 10))


@pytest.mark.parametrize("bad", [RelativeTransform("zscore"), RelativeTransform("file", -1),
                                 RelativeTransform("file", 3, 0.0)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(StitchError):
        bad.check()


def test_topk_above_the_anchor_count_keeps_all_and_says_so(world, tmp_path):
    out = tmp_path / "h.safetensors"
    result = run_cli("train-head", "--embeddings", world["files"]["trainA"], "--space", "relative",
                     "--topk", 5000, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "--topk 5000 is more than the file's 40 anchors: keeping all 40" in result.stderr
    assert store.load_metadata_checked(out)["topk"] == "40"

