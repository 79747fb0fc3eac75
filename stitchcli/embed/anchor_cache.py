"""Anchor embeddings computed once per encoder: content-keyed files in the user's cache folder.

The key is everything the vectors depend on (encoder, its options and weights, the anchor set and the
view read, stitchcli's version), so embedding the same anchors with the same encoder again (each test
file, each ``predict``) reads them back instead. Any trouble with the cache just embeds again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from stitchcli import __version__
from stitchcli.data.fingerprint_cache import cache_dir
from stitchcli.storage import store

DISABLE = "STITCH_NO_ANCHOR_CACHE"  # set to 1 to always embed the anchors


def anchor_cache_key(encoder_spec: str, options, pooling: str, weights: str | None, anchor_set) -> str:
    return store.fingerprint(json.dumps({
        "version": __version__, "encoder": encoder_spec,
        "options": {k: str(v) for k, v in asdict(options).items()}, "pooling": pooling, "weights": weights,
        "anchors": anchor_set.fingerprint, "view": anchor_set.dataset_fingerprint,
        "read": {k: v for k, v in asdict(anchor_set.read_options).items() if k != "split"},
    }, sort_keys=True))


def _path(key: str) -> Path:
    return cache_dir() / "anchor-embeddings" / f"{key}.safetensors"


def cached_anchors(key: str, count: int) -> torch.Tensor | None:
    """The anchor embeddings stored under ``key`` (None if absent, disabled or unreadable)."""
    if os.environ.get(DISABLE) or not _path(key).is_file():
        return None
    try:
        from safetensors.torch import load_file

        vectors = load_file(str(_path(key)))["anchor_embeddings"]
    except Exception:  # a damaged or foreign file: embed again
        return None
    return vectors if vectors.ndim == 2 and len(vectors) == count else None


def remember_anchors(key: str, vectors: torch.Tensor) -> None:
    """Store ``vectors`` under ``key`` atomically; a read-only or full cache folder is no error."""
    if os.environ.get(DISABLE):
        return
    try:
        from safetensors.torch import save_file

        path = _path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with store.atomic_path(path) as tmp:
            save_file({"anchor_embeddings": vectors.detach().cpu().contiguous()}, str(tmp),
                      metadata={"key": key})
    except OSError:
        pass
