"""The logistic head and probe: deterministic, L2 chosen on held-out rows, streamed equals in memory,
invariant to rescaling."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from stitchcli.heads import HeadConfig, build_head
from stitchcli.heads.inputs import FileInputs, TensorInputs
from stitchcli.heads.logistic import LogisticHead, probe_accuracy, stratified_split
from stitchcli.heads.training import TrainRequest, fit_module
from stitchcli.relspace import RelativeTransform
from stitchcli.storage import open_rows, store

from helpers import random_orthogonal


def blobs(n: int, dim: int, classes: int, seed: int, spread: float = 1.5, rows_seed: int = 0):
    """Gaussian classes around seeded centroids; ``rows_seed`` draws other rows of the same classes."""
    centroids = torch.randn(classes, dim, generator=torch.Generator().manual_seed(seed)) * spread
    labels = torch.arange(n) % classes
    noise = torch.randn(n, dim, generator=torch.Generator().manual_seed(1000 + rows_seed))
    return centroids[labels] + noise, labels


def test_logistic_head_is_deterministic_and_learns():
    x, y = blobs(300, 12, 3, 0)
    heads = []
    for _ in range(2):
        head = build_head(HeadConfig("logistic", 12, 3))
        head.fit_inputs(TensorInputs(x).blocks, y, seed=0)
        heads.append(head)
    for (name, a), (_, b) in zip(heads[0].state_dict().items(), heads[1].state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    test_x, test_y = blobs(300, 12, 3, 0, rows_seed=1)
    assert float((heads[0](test_x).argmax(1) == test_y).float().mean()) > 0.9
    assert any(float(heads[0].l2) == pytest.approx(value) for value in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0))


def test_regularisation_is_chosen_on_held_out_rows():
    # Few rows, many noisy dimensions: a weak penalty overfits, so a stronger one must win.
    x, y = blobs(60, 200, 2, 1, spread=0.4)
    head = LogisticHead(SimpleNamespace(in_dim=200, num_classes=2))
    head.fit_inputs(TensorInputs(x).blocks, y, seed=0)
    assert float(head.l2) >= 1e-3


def test_stratified_split_takes_each_class_and_refuses_tiny_classes():
    labels = torch.tensor([0] * 10 + [1] * 20)
    held = stratified_split(labels, 0.2, 0)
    assert (labels[held] == 0).sum() == 2 and (labels[held] == 1).sum() == 4
    assert stratified_split(torch.tensor([0, 0, 1, 1, 1]), 0.5, 0) is None


def test_streamed_fit_equals_in_memory(tmp_path: Path):
    x, y = blobs(900, 16, 4, 2)
    path = tmp_path / "e.safetensors"
    store.save(path, "embeddings", {"embeddings": x, "labels": y, "indices": torch.arange(len(y))},
               {"encoder": "toy", "label_names": ["a", "b", "c", "d"]})
    reader = open_rows(path)
    streamed = FileInputs(reader, "absolute", RelativeTransform(), block_rows=128)
    in_memory = FileInputs(reader, "absolute", RelativeTransform(), block_rows=128)
    in_memory_all = TensorInputs(in_memory.all())
    a = LogisticHead(SimpleNamespace(in_dim=16, num_classes=4))
    b = LogisticHead(SimpleNamespace(in_dim=16, num_classes=4))
    a.fit_inputs(streamed.blocks, y, seed=0)  # read from disk 128 rows at a time, on every pass
    b.fit_inputs(in_memory_all.blocks, y, seed=0)  # one block in memory
    assert float(a.l2) == float(b.l2)
    assert torch.allclose(a.linear.weight, b.linear.weight, atol=1e-4)
    assert torch.equal(a(x).argmax(1), b(x).argmax(1))


def test_fit_module_routes_logistic_heads_to_their_solver():
    x, y = blobs(200, 8, 2, 3)
    module = fit_module(HeadConfig("logistic", 8, 2), x, y, TrainRequest(Path(), arch="logistic"))
    assert float((module(x).argmax(1) == y).float().mean()) > 0.9


def test_probe_is_invariant_to_rescaling_and_rotation():
    x, y = blobs(400, 10, 3, 4)
    test_x, test_y = blobs(400, 10, 3, 4, rows_seed=1)
    q = random_orthogonal(10, 5)
    base = probe_accuracy(x, y, test_x, test_y)
    assert abs(probe_accuracy(7.0 * x, y, 7.0 * test_x, test_y) - base) < 1e-9
    assert base > 0.8
    # A rotation mixes the standardised coordinates: the optimum moves, but not by much.
    assert abs(probe_accuracy(x @ q, y, test_x @ q, test_y) - base) < 0.05


def test_train_request_defaults_are_the_cli_defaults():
    from stitchcli import defaults
    from stitchcli.heads.training import architecture, translation_of

    request = TrainRequest(Path())
    assert (request.space, architecture(request)) == (defaults.SPACE, defaults.ARCH)
    assert architecture(TrainRequest(Path(), task="regression")) == defaults.VALUE_ARCH
    assert (request.transform.normalize, request.transform.topk, request.transform.power) == (
        defaults.NORMALIZE, defaults.TOPK, defaults.TOPK_POWER)
    assert translation_of(request) == defaults.TRANSLATE  # an absolute head reads others via ridge
    assert translation_of(TrainRequest(Path(), translate="none")) is None
    assert translation_of(TrainRequest(Path(), space="relative")) is None
