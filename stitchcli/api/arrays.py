"""What the Python API accepts: lists, numpy arrays and torch tensors, checked into torch in one line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stitchcli.errors import StitchError

_NUMERIC = "a list of rows, a numpy array or a torch tensor of floats"


def matrix(value: Any, name: str, rows: int | None = None, dim: int | None = None) -> torch.Tensor:
    """``value`` as a float32 CPU tensor [N, D] (a copy), or one ``StitchError`` line naming ``name``."""
    if isinstance(value, str | bytes) or value is None:
        raise StitchError(f"{name} must be {_NUMERIC}, not {type(value).__name__}")
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.is_complex() or tensor.dtype == torch.bool:
            raise StitchError(f"{name} must hold real numbers, not {tensor.dtype}")
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as exc:  # ragged lists
            raise StitchError(f"{name} must be {_NUMERIC} with rows of one length ({exc})") from None
        if array.dtype.kind not in "fiu":
            raise StitchError(f"{name} must hold real numbers, not {array.dtype} values",
                              hint=f"give {_NUMERIC}.")
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.dim() != 2:
        raise StitchError(f"{name} must be 2-D (rows × dimensions), got shape {tuple(tensor.shape)}",
                          hint="one vector? pass it as a list of one row (x[None] or [x]).")
    if rows is not None and tensor.shape[0] != rows:
        raise StitchError(f"{name} has {tensor.shape[0]} rows, expected {rows}")
    if dim is not None and tensor.shape[1] != dim:
        raise StitchError(f"{name} has dimension {tensor.shape[1]}, expected {dim}")
    tensor = tensor.to(device="cpu", dtype=torch.float32).clone()
    if not bool(torch.isfinite(tensor).all()):
        raise StitchError(f"{name} holds NaN or infinite values")
    return tensor


def samples(value: Any, name: str = "samples") -> list:
    """``value`` as a list of samples (texts, images or image paths); a lone string or image is refused,
    since iterating it would give characters or pixel rows."""
    if isinstance(value, str | bytes | Path):
        raise StitchError(f"{name} must be a list of samples, not a single {type(value).__name__}",
                          hint=f"pass [{name[:-1] if name.endswith('s') else name}] for one sample.")
    if type(value).__module__.startswith("PIL."):
        raise StitchError(f"{name} must be a list of images, not a single image", hint="pass [image].")
    if isinstance(value, np.ndarray | torch.Tensor):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if array.dtype.kind in "USO":  # texts (an object array: a pandas column's values)
            if array.ndim != 1:
                raise StitchError(f"{name}: an array of texts must be 1-D, got shape {tuple(array.shape)}")
            return [str(s) for s in array] if array.dtype.kind in "US" else list(array)
        if array.ndim not in (3, 4):
            raise StitchError(f"{name}: an array of images must be N×H×W or N×H×W×C, got shape "
                              f"{tuple(array.shape)}")
        return list(array)
    iterable = isinstance(value, Sequence) or hasattr(value, "__iter__")
    if isinstance(value, Mapping | Set) or not iterable:  # a dict's keys, a set in no order
        raise StitchError(f"{name} must be a list of samples, not {type(value).__name__}")
    return list(value)


def image_like(sample: Any) -> bool:
    """Whether a sample can only be an image (a PIL image, an array, a path object)."""
    return isinstance(sample, Path | np.ndarray | torch.Tensor) or type(sample).__module__.startswith("PIL.")


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def whole(value: Any, name: str, minimum: int | None = 1) -> int:
    """``value`` as an int of at least ``minimum`` (a bool, float or string refused in one line)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise StitchError(f"{name} must be an integer, not {_kind(value)}")
    if minimum is not None and value < minimum:
        raise StitchError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def real(value: Any, name: str) -> float:
    """``value`` as a finite float (a bool or string refused in one line)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise StitchError(f"{name} must be a number, not {_kind(value)}")
    if not np.isfinite(float(value)):
        raise StitchError(f"{name} must be finite, got {value}")
    return float(value)


def flag(value: Any, what: str) -> bool:
    """``value`` as a bool (a string such as "no" would read as True)."""
    if not isinstance(value, bool | np.bool_):
        raise StitchError(f"{what} must be True or False, not {_kind(value)}")
    return bool(value)


def path(value: Any, what: str) -> Path:
    """``value`` as a path (a string or a ``Path``)."""
    if not isinstance(value, str | Path):
        raise StitchError(f"{what} must be a file path, not {_kind(value)}")
    return Path(value)


def name(value: Any, what: str, example: str) -> str:
    """``value`` as a name (a string), or one line saying what it should be."""
    if not isinstance(value, str):
        raise StitchError(f"{what} must be a name such as {example}, not {_kind(value)}")
    return value


def labels(value: Any, count: int, names: Sequence[str] | None = None) -> tuple[torch.Tensor, list[str]]:
    """Class ids [N] and class names: strings (or ints without ``names``) are named and numbered as
    ``stitch embed`` numbers a source's labels (sorted names); ints with ``names`` index those names."""
    from stitchcli.data import encode_labels

    if isinstance(value, str | bytes):
        raise StitchError("labels must be a list of labels, not a single string")
    if value is None or isinstance(value, Mapping | Set) or not hasattr(value, "__iter__"):
        raise StitchError(f"labels must be a list of class names or ids, not {_kind(value)}")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    raw = list(np.asarray(value).reshape(-1)) if isinstance(value, np.ndarray) else list(value)
    if len(raw) != count:
        raise StitchError(f"labels has {len(raw)} entries for {count} rows of vectors")
    if names is None:
        if any(isinstance(v, float | np.floating) for v in raw):
            raise StitchError("labels must be class names or integer class ids, not floats")
        ids, found = encode_labels(raw, "labels")
        return torch.tensor(ids, dtype=torch.long), found
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        raise StitchError("label_names must not repeat a name")
    if any(isinstance(v, bool) or (isinstance(v, float | np.floating) and not float(v).is_integer())
           for v in raw):
        raise StitchError("with label_names, labels must be integer ids into them")
    try:
        ids = torch.tensor([int(v) for v in raw], dtype=torch.long)
    except (TypeError, ValueError, OverflowError):
        raise StitchError("with label_names, labels must be integer ids into them") from None
    if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(names)):
        raise StitchError(f"labels hold ids outside 0..{len(names) - 1} of label_names")
    return ids, names


def numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float32 numpy array the caller owns."""
    return tensor.detach().cpu().to(torch.float32).numpy().copy()
