"""Dataset sources: a registry that turns a ``--dataset`` string into samples, labels and a fingerprint."""

from __future__ import annotations

import importlib
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
    _register_builtins()
    for entry in reversed(list(SOURCES.values())):
        if entry.matches(source):
            return entry.load(source, options)
    if not source.startswith("hf:") and not Path(source).exists():
        raise StitchError(f"dataset not found: {source}")
    formats = "; ".join(f"{s.name}: {s.description}" for s in SOURCES.values())
    raise StitchError(f"cannot tell the format of dataset {source}", hint=f"supported: {formats}")


_BUILTINS_LOADED = False


def _register_builtins() -> None:
    # Imported lazily so that `stitch --help` stays light; each module registers itself.
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        from stitchcli.data import hub, ids, images, tabular  # noqa: F401

        # Registered after the image folder, so tried before it: a folder of Parquet shards.
        importlib.import_module("stitchcli.data.arrow")
        from stitchcli.plugins import load_group

        load_group("stitchcli.datasets", lambda name, source: register_source(source))
