"""Anchor embeddings computed once per encoder: content-keyed files in the user's cache folder.

The key is everything the vectors depend on (encoder, the content of its files as
``encoders.identity`` reads them, its options and weights, the anchor set and the view read,
stitchcli's version), so embedding the same anchors with the same encoder again (each test file, each
``predict``) reads them back instead, and a model replaced in place under the same name never does.
An entry records its key and a checksum of its tensor; one that is unreadable, of the wrong shape or
dtype, not finite, or whose checksum or key does not match is deleted and the anchors embedded again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from stitchcli import __version__
from stitchcli.data.fingerprint_cache import cache_dir
from stitchcli.encoders.identity import encoder_identity
from stitchcli.events import log
from stitchcli.metadata.cache_entry import AnchorCacheEntryMeta
from stitchcli.storage import store

DISABLE = "STITCH_NO_ANCHOR_CACHE"  # set to 1 to always embed the anchors
TENSOR = "anchor_embeddings"


def anchor_cache_key(encoder_spec: str, options, pooling: str, identity: str | None, anchor_set) -> str:
    """The entry's key; ``identity`` is ``encoder_identity(spec, options.weights)`` (computed if None)."""
    if identity is None:
        identity = encoder_identity(encoder_spec, options.weights)
    return store.fingerprint(json.dumps({
        "version": __version__, "encoder": encoder_spec, "model": identity,
        "options": {k: str(v) for k, v in asdict(options).items()}, "pooling": pooling,
        "anchors": anchor_set.fingerprint, "view": anchor_set.dataset_fingerprint,
        "read": {k: v for k, v in asdict(anchor_set.read_options).items() if k != "split"},
    }, sort_keys=True))


def _path(key: str) -> Path:
    return cache_dir() / "anchor-embeddings" / f"{key}.safetensors"


def checksum(vectors: torch.Tensor) -> str:
    """sha256 of the tensor's dtype, shape and bytes."""
    vectors = vectors.detach().cpu().contiguous()
    digest = hashlib.sha256(f"{vectors.dtype}:{list(vectors.shape)}\n".encode())
    digest.update(vectors.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def cached_anchors(key: str, count: int, dim: int | None = None) -> torch.Tensor | None:
    """The anchor embeddings stored under ``key`` (``count`` rows, ``dim`` columns when known), or None
    if absent or disabled. An entry that is not exactly what was stored under this key is deleted."""
    path = _path(key)
    if os.environ.get(DISABLE) or not path.is_file():
        return None
    vectors, problem = _read_entry(path, key)
    if problem is None:
        problem = entry_problem(vectors, count, dim)
    if problem is not None:
        discard(key, problem)
        return None
    return vectors


def _read_entry(path: Path, key: str) -> tuple[torch.Tensor | None, str | None]:
    """The entry's tensor, or what is wrong with the file (unreadable, foreign, checksum)."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            entry = AnchorCacheEntryMeta.from_metadata(handle.metadata() or {})
            names = list(handle.keys())
            if names != [TENSOR]:
                return None, f"it holds {names} instead of {TENSOR!r}"
            vectors = handle.get_tensor(TENSOR)
    except Exception as exc:  # a damaged, foreign or unreadable file: embed again
        return None, f"unreadable ({type(exc).__name__})"
    if not entry.stored_under(key):
        return None, "it was stored under another key or by another version"
    if entry.checksum != checksum(vectors):
        return None, "its checksum does not match its values"
    return vectors, None


def entry_problem(vectors: torch.Tensor, count: int, dim: int | None = None) -> str | None:
    """What is wrong with cached anchor vectors (None: nothing): shape, float32, finite values."""
    if vectors.ndim != 2 or len(vectors) != count or vectors.shape[1] == 0:
        return f"shape {list(vectors.shape)} is not [{count}, {dim or 'D'}]"
    if dim is not None and vectors.shape[1] != dim:
        return f"width {vectors.shape[1]} is not the encoder's {dim}"
    if vectors.dtype != torch.float32:  # what every encoder returns and embeddings files store
        return f"dtype {vectors.dtype} is not float32"
    if not bool(torch.isfinite(vectors).all()):
        return "it holds NaN or infinite values"
    return None


def discard(key: str, problem: str) -> None:
    """Delete the entry under ``key`` (a read-only cache folder is no error) and say why."""
    log(f"anchors: a cache entry was discarded ({problem}); embedding them again")
    try:
        _path(key).unlink(missing_ok=True)
    except OSError:
        pass


def remember_anchors(key: str, vectors: torch.Tensor) -> None:
    """Store ``vectors`` under ``key`` atomically; a read-only or full cache folder is no error."""
    if os.environ.get(DISABLE):
        return
    try:
        from safetensors.torch import save_file

        path = _path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with store.atomic_path(path) as tmp:
            vectors = vectors.detach().cpu().contiguous()
            save_file({TENSOR: vectors}, str(tmp),
                      metadata=AnchorCacheEntryMeta(key, checksum(vectors)).to_metadata())
    except OSError:
        pass
