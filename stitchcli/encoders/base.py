"""What every encoder source provides: the options it is loaded with and the ``Encoder`` protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass
class EncoderOptions:
    """Everything about how an encoder is loaded and run, apart from its spec."""

    pooling: str | None = None  # None: the source's own default
    max_length: int = 256
    device: str = "auto"
    dtype: str = "float32"
    weights: Path | None = None
    trust_remote_code: bool = False
    modality: str | None = None  # the data's ("text"/"image"): which tower of a two-tower model (CLIP)


class Encoder(Protocol):
    """A frozen model that maps a batch of samples to one float32 CPU vector each."""

    spec: str
    modality: str  # "text" or "image"
    pooling: str
    # Optional: the token limit a text encoder applies (None: it reads whole texts); recorded in
    # embeddings files. Without the attribute, --max-length is recorded.

    def embed(self, samples: list[Any]) -> Any:  # torch.Tensor [B, D]
        ...


Loader = Callable[[str, EncoderOptions], Encoder]
