"""Local checkpoints: safetensors or ``torch.load(weights_only=True)``, strict key matching."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from stitchcli.errors import StitchError


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint; never unpickles arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise StitchError(f"weights file not found: {path}")
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(path))
        except Exception as exc:
            raise StitchError(f"{path} is not a valid safetensors file: {exc}") from None
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StitchError(
                f"refusing to load {path}: it is not a plain tensor checkpoint ({first})",
                hint="save it as a state dict (torch.save(model.state_dict(), ...)) or as "
                ".safetensors; arbitrary pickles are never loaded.",
            ) from None
    # Common wrappers from training frameworks.
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StitchError(f"{path} does not hold a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_strict(
    model: torch.nn.Module, path: Path, ignorable_prefixes: tuple[str, ...] = ()
) -> None:
    """Load ``path`` into ``model``; any missing or unexpected key is an error that lists them.

    Keys under ``ignorable_prefixes`` (a classifier the feature extractor does not have) may be
    present in the checkpoint without being an error.
    """
    state = read_state_dict(path)
    expected = set(model.state_dict())
    unexpected = sorted(
        k for k in state if k not in expected and not k.startswith(ignorable_prefixes)
    )
    missing = sorted(k for k in expected if k not in state)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys ({len(missing)}): {_preview(missing)}")
        if unexpected:
            parts.append(f"unexpected keys ({len(unexpected)}): {_preview(unexpected)}")
        raise StitchError(
            f"weights {path} do not match the model: " + "; ".join(parts),
            hint="check that the checkpoint is for this architecture.",
        )
    state = {k: v for k, v in state.items() if k in expected}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # shape mismatches
        detail = str(exc).strip().splitlines()
        raise StitchError(
            f"weights {path} do not match the model: {detail[1].strip() if len(detail) > 1 else detail[0]}"
        ) from None


def _preview(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", … (+{len(keys) - limit} more)" if len(keys) > limit else "")
