"""Device and dtype selection with errors that say what to use instead."""

from __future__ import annotations

import torch

from stitchcli.errors import StitchError

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str) -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; an explicit choice must be available."""
    base = name.split(":")[0]
    if base not in DEVICES:
        raise StitchError(f"unknown device {name!r}", hint=f"choose one of {', '.join(DEVICES)}.")
    if base == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise StitchError("--device cuda was given but no CUDA GPU is available", hint="use --device cpu.")
    if base == "mps" and not torch.backends.mps.is_available():
        raise StitchError("--device mps was given but MPS is not available", hint="use --device cpu.")
    return torch.device(name)


def resolve_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise StitchError(f"unknown dtype {name!r}", hint=f"choose one of {', '.join(DTYPES)}.")
    return DTYPES[name]
