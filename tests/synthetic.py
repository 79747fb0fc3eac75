"""Synthetic encoders A, B = 3·A·Q + noise and a 16-d C, with anchors and heads, made through the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from stitchcli.data import load_dataset
from stitchcli.storage import store

from helpers import ok

CLASSES = ["ant", "bee", "cat", "dog"]


def write_source(path: Path, labels: torch.Tensor) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((f"sample {i}", CLASSES[int(c)]) for i, c in enumerate(labels))
    return path


def write_embeddings(path: Path, source: Path, vectors: torch.Tensor, labels: torch.Tensor,
                     encoder: str, label_names=CLASSES) -> Path:
    """An embeddings file as `stitch embed` would write it, for a made-up encoder."""
    dataset = load_dataset(str(source))
    store.save(path, "embeddings", {
        "embeddings": vectors.float(), "labels": labels.long(), "indices": torch.arange(len(labels)),
    }, {
        "encoder": encoder, "pooling": "mean", "dataset": str(source), "split": source.stem,
        "dataset_fingerprint": dataset.fingerprint, "label_names": list(label_names),
        "num_samples": str(len(labels)), "dim": str(vectors.shape[1]),
    })
    return path


def build_world(root: Path) -> dict:
    """Two encoders A and B (B = 3·A·Q + noise), a 16-d encoder C, anchors, heads, test files."""
    generator = torch.Generator().manual_seed(0)
    dim = 24
    centroids = torch.randn(len(CLASSES), dim, generator=generator) * 2.0

    def sample(n):
        labels = torch.arange(n) % len(CLASSES)
        return centroids[labels] + torch.randn(n, dim, generator=generator), labels

    train_a, train_labels = sample(400)
    test_a, test_labels = sample(200)
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=generator))
    to_b = lambda x: 3.0 * x @ q + 0.01 * torch.randn(x.shape, generator=generator)  # noqa: E731
    projection = torch.randn(dim, 16, generator=generator)
    sources = {"train": write_source(root / "train.csv", train_labels),
               "test": write_source(root / "test.csv", test_labels)}
    files = {}
    for name, transform in {"A": lambda x: x, "B": to_b, "C": lambda x: x @ projection}.items():
        files[f"train{name}"] = write_embeddings(root / f"train{name}.safetensors", sources["train"],
                                                 transform(train_a), train_labels, f"synth:{name}")
        files[f"test{name}"] = write_embeddings(root / f"test{name}.safetensors", sources["test"],
                                                transform(test_a), test_labels, f"synth:{name}")
    anchors = root / "anchors.safetensors"
    ok("anchors", "--dataset", sources["train"], "--num", 40, "--strategy", "stratified",
       "--out", anchors, "--quiet")
    for name in "ABC":
        ok("relative", "--embeddings", files[f"train{name}"], "--anchors", anchors, "--quiet")
        ok("relative", "--embeddings", files[f"test{name}"], "--anchors", anchors,
           "--anchor-embeddings-from", files[f"train{name}"], "--quiet")
    heads = {}
    for space in ("relative", "absolute"):
        heads[space] = root / f"head-{space}.safetensors"
        # The absolute head is the baseline: read as it is, not translated (the default).
        ok("train-head", "--embeddings", files["trainA"], "--space", space, "--epochs", 15,
           *(["--translate", "none"] if space == "absolute" else []), "--out", heads[space], "--quiet")
    return {"root": root, "files": files, "heads": heads, "anchors": anchors, "sources": sources}


