"""Sample ids as a source (``ids:FILE``): the universe of samples of embeddings made elsewhere.

A text file with one id per line, a ``.npy`` array or a ``.json`` list. `stitch anchors --ids FILE`
chooses anchors among them; `stitch import` then finds each anchor's vector by its id.
"""

from __future__ import annotations

import json
from pathlib import Path

from stitchcli.data.registry import Dataset, DatasetSource, ReadOptions, register_source, unlabelled
from stitchcli.errors import StitchError
from stitchcli.storage.store import fingerprint

PREFIX = "ids:"


def read_ids(path: Path, what: str = "ids file") -> list[str]:
    """Ids as strings, in order; duplicates and empty files refused."""
    path = Path(path)
    if not path.is_file():
        raise StitchError(f"{what} not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        import numpy as np

        try:
            values = np.load(path, allow_pickle=False)
        except (ValueError, EOFError, OSError) as exc:
            raise StitchError(f"{path} is not a readable .npy array of ids: {exc}") from None
        if values.ndim != 1:
            raise StitchError(f"{path}: ids must be a 1-D array, got shape {values.shape}")
        ids = [str(v) for v in values.tolist()]
    elif suffix == ".json":
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise StitchError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
            raise StitchError(f"{path}: ids must be a JSON list of strings or integers")
        ids = [str(v) for v in values]
    else:
        try:
            lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines: U+2028 is no line end
            ids = [line.strip() for line in lines if line.strip()]
        except UnicodeDecodeError:
            raise StitchError(f"{path} is not UTF-8 text (one id per line)") from None
    if not ids:
        raise StitchError(f"{what} {path} holds no ids")
    seen: set[str] = set()
    for row, value in enumerate(ids):
        if value in seen:
            raise StitchError(f"id {value!r} appears twice in {path} (row {row})",
                              hint="each sample needs its own id.")
        seen.add(value)
    return ids


def load_ids(source: str, options: ReadOptions) -> Dataset:
    path = Path(source.removeprefix(PREFIX))
    ids = read_ids(path)
    labels, names = unlabelled(len(ids))
    return Dataset(source=source, split=options.split or path.stem, modality="text", labels=labels,
                   label_names=names, fingerprint=fingerprint("ids", *ids), get_sample=ids.__getitem__,
                   get_column=lambda _name, _flag: list(ids))


register_source(DatasetSource(
    name="ids",
    description="ids:FILE, sample ids (one per line, .npy or .json) of embeddings made elsewhere "
    "(`stitch import`)",
    matches=lambda s: s.startswith(PREFIX),
    load=load_ids,
))
