"""Anchor strategies return K distinct valid rows; stratified balances; all are seeded."""

from __future__ import annotations

import pytest
import torch

from stitchcli.anchors.strategies import STRATEGIES, select_anchors
from stitchcli.errors import StitchError


@pytest.fixture
def data():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(300) % 3
    # Clusters in orthogonal directions: fps and kmeans work on L2-normalised vectors.
    embeddings = torch.randn(300, 8, generator=generator) * 0.3 + 5 * torch.eye(8)[labels]
    return labels, embeddings


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_k_distinct_valid_indices_and_seeded(data, strategy):
    labels, embeddings = data
    spaces = [embeddings, embeddings.flip(1) * 2]  # aligned needs two encoders; others take any
    picked = select_anchors(strategy, 30, labels, spaces, seed=5)
    assert len(picked) == 30 and len(set(picked.tolist())) == 30
    assert picked.min() >= 0 and picked.max() < 300
    assert torch.equal(picked, select_anchors(strategy, 30, labels, spaces, seed=5))


@pytest.mark.parametrize("strategy", ["random", "fps", "kmeans"])
def test_other_seed_other_anchors(data, strategy):
    labels, embeddings = data
    a = select_anchors(strategy, 20, labels, embeddings, seed=1)
    b = select_anchors(strategy, 20, labels, embeddings, seed=2)
    assert not torch.equal(a, b)


def test_stratified_balances_classes(data):
    labels, _ = data
    picked = select_anchors("stratified", 31, labels, seed=0)
    counts = torch.bincount(labels[picked], minlength=3).tolist()
    assert max(counts) - min(counts) <= 1 and sum(counts) == 31


def test_stratified_refuses_more_than_the_smallest_class_allows():
    labels = torch.tensor([0] * 50 + [1] * 3)
    with pytest.raises(StitchError, match="smallest"):
        select_anchors("stratified", 10, labels)


def test_fps_spreads_out(data):
    labels, embeddings = data
    picked = select_anchors("fps", 3, labels, embeddings, seed=0)
    # Three far-apart points on clustered data land in three different clusters.
    assert len(set(labels[picked].tolist())) == 3


@pytest.mark.parametrize("k", [0, -1, 301])
def test_bad_sizes(data, k):
    labels, embeddings = data
    with pytest.raises(StitchError):
        select_anchors("random", k, labels, embeddings)


def test_embedding_strategies_need_embeddings(data):
    with pytest.raises(StitchError, match="needs one encoder"):
        select_anchors("kmeans", 5, data[0])


def test_aligned_picks_samples_whose_neighbourhoods_agree_across_encoders():
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(400, 12, generator=generator)
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=generator))
    b = 3.0 * a @ q
    scrambled = torch.arange(400) % 4 == 0  # in encoder B these 100 samples land somewhere else
    b[scrambled] = torch.randn(int(scrambled.sum()), 12, generator=generator) * 3.0
    picked = select_anchors("aligned", 60, torch.zeros(400, dtype=torch.long), [a, b], seed=0)
    assert not scrambled[picked].any()  # they are the worst-aligned quarter, which is never drawn
    assert len(set(picked.tolist())) == 60
    assert torch.equal(picked, select_anchors("aligned", 60, torch.zeros(400, dtype=torch.long), [a, b]))


def test_aligned_needs_two_encoders(data):
    labels, embeddings = data
    with pytest.raises(StitchError, match="2 or more encoders"):
        select_anchors("aligned", 5, labels, [embeddings])
