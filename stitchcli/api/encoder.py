"""``load_encoder``: a reusable encoder object whose ``embed`` gives ``stitch embed``'s vectors as numpy."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stitchcli.api import arrays
from stitchcli.data import Dataset
from stitchcli.embed.job import EmbedRequest
from stitchcli.embed.loop import embed_rows
from stitchcli.encoders import EncoderOptions
from stitchcli.errors import StitchError

# `stitch embed`'s rows per chunk: batches are length-sorted within a chunk, so the same chunks give
# the same batches, hence the same vectors to the last bit.
CHUNK_SIZE = {f.name: f.default for f in dataclasses.fields(EmbedRequest)}["chunk_size"]


class Encoder:
    """A loaded encoder (``hf:``, ``timm:`` or a plugin's), reused across calls: it loads once."""

    def __init__(self, model, options: EncoderOptions) -> None:
        self.model, self.options = model, options

    @property
    def spec(self) -> str:
        """The encoder's spec as embeddings files record it (``hf:DIR``, ``timm:NAME``)."""
        return self.model.spec

    @property
    def modality(self) -> str:
        """``"text"`` or ``"image"``."""
        return self.model.modality

    @property
    def pooling(self) -> str:
        return self.model.pooling

    def __repr__(self) -> str:
        return f"Encoder({self.spec}, {self.modality}, pooling {self.pooling})"

    def embed(self, samples, batch_size: int = 32) -> np.ndarray:
        """Embeddings of ``samples``, in their order.

        Args:
            samples: a list of texts for a text encoder; for an image encoder a list of PIL images,
                arrays (H×W, H×W×3, H×W×4) or image file paths, or one array N×H×W[×C].
            batch_size: samples per forward pass (as ``stitch embed --batch-size``).

        Returns:
            A float32 numpy array (N, D): the ``embeddings`` tensor ``stitch embed`` writes for the
            same samples and batch size.

        Example:
            >>> enc = st.load_encoder("hf:sentence-transformers/all-MiniLM-L6-v2")
            >>> enc.embed(["a great movie", "a boring plot"]).shape
            (2, 384)
        """
        return arrays.numpy(self.vectors(arrays.samples(samples), batch_size))

    def vectors(self, samples: list, batch_size: int = 32) -> torch.Tensor:
        """``embed`` as a float32 torch tensor, for samples already given as a list."""
        return self.embed_dataset(in_memory(samples, self.modality), range(len(samples)), batch_size)

    def embed_dataset(self, dataset: Dataset, rows, batch_size: int = 32) -> torch.Tensor:
        """Embeddings of ``rows`` of a dataset, through ``stitch embed``'s loop (its chunks and batches)."""
        arrays.whole(batch_size, "batch_size")
        rows = list(rows)
        vectors = embed_rows(self.model, dataset, rows, batch_size, CHUNK_SIZE)
        return vectors if rows else torch.empty(0, 0)


def load_encoder(spec: str, *, device: str = "auto", dtype: str = "float32", pooling: str | None = None,
                 max_length: int = 256, weights: str | Path | None = None, trust_remote_code: bool = False,
                 modality: str | None = None) -> Encoder:
    """Load an encoder once, to embed any number of batches (or to give to ``head.predict``).

    Args:
        spec: ``hf:DIR_OR_HUB_ID``, ``timm:NAME`` or a plugin's ``PREFIX:TARGET``, as ``--encoder``.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``.
        dtype: ``float32``, ``float16`` or ``bfloat16``.
        pooling: the source's own default if None (as ``--pooling``).
        max_length: tokens per text (as ``--max-length``).
        weights: a checkpoint loaded over the model's weights (as ``--weights``).
        trust_remote_code: run a hub model's own code (as ``--trust-remote-code``).
        modality: the tower of a two-tower checkpoint (CLIP): ``"text"`` (default) or ``"image"``.

    Returns:
        An ``Encoder`` with ``embed(samples, batch_size=32)``, ``spec``, ``modality``, ``pooling``.

    Example:
        >>> import stitchcli as st
        >>> enc = st.load_encoder("hf:sentence-transformers/all-MiniLM-L6-v2", device="cpu")
        >>> x = enc.embed(["a great movie", "a boring plot"])
    """
    from stitchcli.encoders import load_encoder as load

    if not isinstance(spec, str):
        raise StitchError(f"an encoder spec is a string such as hf:NAME, not {type(spec).__name__}")
    arrays.whole(max_length, "max_length")
    for name, value in (("device", device), ("dtype", dtype)):
        if not isinstance(value, str):
            raise StitchError(f"{name} must be a name such as {'cpu' if name == 'device' else 'float32'}, "
                              f"not {type(value).__name__}")
    if pooling is not None and not isinstance(pooling, str):
        raise StitchError(f"pooling must be a name such as mean, not {type(pooling).__name__}")
    if modality not in (None, "text", "image"):
        raise StitchError(f"modality must be text or image, got {modality!r}")
    options = EncoderOptions(pooling, max_length, device, dtype, None if weights is None else Path(weights),
                             trust_remote_code, modality)
    return Encoder(load(spec, options), options)


def in_memory(samples: list, modality: str) -> Dataset:
    """Samples as an unlabelled dataset (texts as they are; images as ``stitch embed`` reads them:
    paths opened as the image folder opens its files)."""
    if modality == "text":
        bad = next((i for i, s in enumerate(samples) if not isinstance(s, str)), None)
        if bad is not None:
            raise StitchError(f"sample {bad} is a {type(samples[bad]).__name__}, not a text, and the "
                              "encoder reads texts")
        get = samples.__getitem__
    else:
        get = _image_getter(samples)
    return Dataset(source="python", split="python", modality=modality, labels=[-1] * len(samples),
                   label_names=[], fingerprint="python", get_sample=get)


def _image_getter(samples: list):
    from stitchcli.data.images import _open_image

    for number, sample in enumerate(samples):
        if isinstance(sample, str | Path):
            if not Path(sample).is_file():
                raise StitchError(f"image file not found: {sample} (sample {number})")
        elif not (type(sample).__module__.startswith("PIL.")
                  or isinstance(sample, np.ndarray | torch.Tensor)):
            raise StitchError(f"sample {number} is a {type(sample).__name__}, not an image, and the "
                              "encoder reads images", hint="give PIL images, arrays or image file paths.")

    def get(index: int) -> Any:
        sample = samples[index]
        if isinstance(sample, str | Path):
            return _open_image(Path(sample))
        return sample.numpy() if isinstance(sample, torch.Tensor) else sample

    return get
