"""Shared fixtures: tiny offline models and small datasets written by the tests themselves."""

from __future__ import annotations

import gzip
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Fingerprints remembered by tests stay out of the user's cache.
os.environ["STITCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="stitch-cache-")

WORDS = ("the a movie film was is great good bad awful boring fun loved hated plot actor "
         "story not very really quite music scene ending cast script").split()

TEXTS = [
    ("a great movie , really fun", "fresh"),
    ("the plot was boring", "rotten"),
    ("loved the cast and the music", "fresh"),
    ("awful script , hated the ending", "rotten"),
    ("good", "fresh"),
    ("not good , not fun , very very bad and really quite boring from the start to the ending", "rotten"),
    ("the actor was great", "fresh"),
    ("bad film", "rotten"),
    ("quite a good story with a great scene", "fresh"),
    ("the music was awful", "rotten"),
    ("really loved it", "fresh"),
    ("boring boring boring", "rotten"),
]


@pytest.fixture(autouse=True)
def _own_anchor_cache(tmp_path_factory, monkeypatch):
    """Each test starts with an empty anchor-embedding cache, so cache hits never depend on test order."""
    monkeypatch.setenv("STITCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def pytest_configure(config):
    # Tests must not depend on how many threads torch picks on the CI machine.
    import torch

    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A random 2-layer BERT with a small WordPiece vocabulary, saved like a hub model."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", "."] + WORDS + list("abcdefghijklmnopqrstuvwxyz")
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # from_pretrained reads vocab.txt; transformers 5 ignores a vocab_file argument (every word [UNK])
    tokenizer = BertTokenizerFast.from_pretrained(str(directory), do_lower_case=True)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def text_csv(tmp_path_factory) -> Path:
    from helpers import write_texts

    return write_texts(tmp_path_factory.mktemp("text") / "reviews.csv", TEXTS)


@pytest.fixture(scope="session")
def other_bert(tiny_bert, tmp_path_factory) -> Path:
    """Another encoder: the tiny BERT's architecture and vocabulary with other random weights."""
    import shutil

    import torch
    from transformers import BertModel

    directory = tmp_path_factory.mktemp("other-bert")
    shutil.copytree(tiny_bert, directory, dirs_exist_ok=True)
    torch.manual_seed(1)
    BertModel(BertModel.from_pretrained(str(tiny_bert)).config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def text_jsonl(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "reviews.jsonl"
    path.write_text("".join(json.dumps({"review": t, "stars": 5 if lab == "fresh" else 1}) + "\n"
                            for t, lab in TEXTS), encoding="utf-8")
    return path


def make_images(n: int = 12, size: int = 16, channels: int | None = None, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    shape = (n, size, size) if channels is None else (n, size, size, channels)
    images = rng.integers(0, 256, size=shape, dtype=np.uint8)
    return images, labels.astype(np.int64)


@pytest.fixture(scope="session")
def image_npz(tmp_path_factory) -> Path:
    images, labels = make_images()
    path = tmp_path_factory.mktemp("npz") / "digits.npz"
    np.savez(path, images=images, labels=labels, label_names=np.array(["zero", "one", "two"]))
    return path


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


@pytest.fixture(scope="session")
def image_idx(tmp_path_factory) -> Path:
    images, labels = make_images(size=8)
    root = tmp_path_factory.mktemp("idx")
    write_idx(root / "train-images-idx3-ubyte.gz", images, gz=True)
    write_idx(root / "train-labels-idx1-ubyte.gz", labels, gz=True)
    return root / "train-images-idx3-ubyte.gz"


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    from PIL import Image

    root = tmp_path_factory.mktemp("folder") / "pets"
    images, labels = make_images(n=9, size=20, channels=3)
    modes = ["RGB", "L", "RGBA"]
    for i, (array, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / ["cat", "dog", "fox"][label]
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(array).convert(modes[i % 3])
        image.save(folder / f"{i}.{'jpg' if image.mode == 'L' else 'png'}")
    return root


@pytest.fixture(scope="session")
def timm_weights(tmp_path_factory) -> Path:
    """A random ``test_resnet`` checkpoint saved as a plain state dict (with its classifier)."""
    import timm
    import torch

    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False)
    path = tmp_path_factory.mktemp("timm") / "test_resnet.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> dict:
    """Synthetic encoders related by rotation + scaling + noise, with anchors and heads."""
    from synthetic import build_world

    return build_world(tmp_path_factory.mktemp("stitch"))
