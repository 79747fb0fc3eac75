"""Dataset sources: a registry that turns a ``--dataset`` string into samples, labels and a fingerprint."""

from __future__ import annotations

from pathlib import Path

from stitchcli.data.registry import (
    SOURCES,
    Dataset,
    DatasetSource,
    ReadOptions,
    default_split,
    encode_labels,
    reads_labels,
    register_source,
    unlabelled,
)
from stitchcli.errors import StitchError

__all__ = ["SOURCES", "Dataset", "DatasetSource", "ReadOptions", "default_split", "encode_labels",
           "load_dataset", "reads_labels", "register_source", "unlabelled"]


def load_dataset(source: str, options: ReadOptions | None = None) -> Dataset:
    """Resolve ``source`` through the registry and load it."""
    options = options or ReadOptions()
    for entry in reversed(SOURCES.values()):
        if entry.matches(source):
            return entry.load(source, options)
    if not source.startswith("hf:") and not Path(source).exists():
        raise StitchError(f"dataset not found: {source}")
    formats = "; ".join(f"{s.name}: {s.description}" for s in SOURCES.values())
    raise StitchError(f"cannot tell the format of dataset {source}", hint=f"supported: {formats}")

