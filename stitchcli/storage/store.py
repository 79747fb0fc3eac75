"""Any stitchcli file, plain or a shard index: the one place that opens either (``inspect``, ``load``).

Importing this module costs no torch: headers are read by ``storage.files``; torch and safetensors
are imported only to load tensors (so `stitch info` and up-front checks stay fast). Everything of a
plain file (``save``, ``atomic_path``, metadata helpers) is re-exported from ``storage.plain``.
"""

from __future__ import annotations

from pathlib import Path

from stitchcli.storage.files import Header
from stitchcli.storage.inputs import folder_files, refuse_overwrite
from stitchcli.storage.plain import (
    FORMAT,
    KINDS,
    StitchFile,
    atomic_dir,
    atomic_path,
    check_writable,
    decoded_metadata,
    fingerprint,
    header_metadata,
    inspect_file,
    load_file,
    missing_tensor,
    output_key_of,
    own_metadata,
    read_metadata,
    save,
)
from stitchcli.storage.shards.index import index_header
from stitchcli.storage.shards.plan import is_index

__all__ = [
    "FORMAT", "KINDS", "StitchFile", "atomic_dir",
    "atomic_path", "check_writable", "decoded_metadata", "fingerprint",
    "header_metadata", "inspect", "is_labelled", "load", "load_metadata_checked", "missing_tensor",
    "folder_files", "output_key_of", "own_metadata", "read_metadata", "refuse_overwrite",
    "require_labels", "save",
]


def inspect(path: Path, kind: str | None = None) -> Header:
    """Metadata, tensor dtypes and shapes of a stitchcli file, checked like ``load`` (format, kind,
    a header that matches the file's size) without importing torch or reading any tensor. A shard
    index (``….index.json``) reads as the embeddings file its shards make up."""
    path = Path(path)
    return index_header(path, kind) if is_index(path) else inspect_file(path, kind)


def load_metadata_checked(path: Path, kind: str | None = None) -> dict[str, str]:
    """Metadata of a stitchcli file, checking that it is one and, if given, of the expected kind.

    Needs no torch: commands call it on their input files before any slow import or work."""
    return inspect(path, kind).metadata


def is_labelled(metadata: dict[str, str]) -> bool:
    """Whether an embeddings file has labels (files of unlabelled data record ``labelled: false``)."""
    return metadata.get("labelled") != "false" and metadata.get("label_names", "[]") not in ("[]", "")


def require_labels(path: Path, metadata: dict[str, str], purpose: str) -> None:
    """Refuse, in one line, an unlabelled embeddings file where labels are needed."""
    from stitchcli.errors import StitchError

    if not is_labelled(metadata):
        raise StitchError(f"{path} embeds unlabelled data, so it cannot {purpose}",
                          hint="embed a labelled file (a label column, or class folders of images); "
                          "`stitch predict` is the command for unlabelled data.")


def load(path: Path, kind: str | None = None) -> StitchFile:
    """Load a stitchcli file (plain, or a shard index joined), checking that it is one and, if given,
    of the expected kind."""
    path = Path(path)
    if is_index(path):
        from stitchcli.storage.rows import open_rows

        return open_rows(path, kind).load()
    return load_file(path, kind)
