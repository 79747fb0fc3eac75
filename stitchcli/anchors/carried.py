"""Anchor sets carried inside another file (a head): copied from the anchor file, read back as a set.

A head stores its anchor file's tensors as ``anchors.<name>`` and that file's metadata as the JSON
of ``anchor_set``, so it can embed its anchors with a new encoder wherever it is moved.
"""

from __future__ import annotations

import json
from pathlib import Path

from stitchcli.anchors.anchor_set import AnchorSet, anchor_set_from
from stitchcli.errors import StitchError
from stitchcli.metadata import AnchorSetMeta, EmbeddingsMeta, HeadMeta
from stitchcli.storage import store

PREFIX = "anchors."


def anchor_file_of(embeddings_meta: EmbeddingsMeta, explicit: Path | None = None) -> Path | None:
    """The anchor file an embeddings file was made with (``explicit``, else the one it records), if
    it still exists; it must be the same anchor set as the file's."""
    recorded = embeddings_meta.anchors_file
    path = Path(explicit) if explicit is not None else (Path(recorded) if recorded else None)
    if path is None or not path.is_file():
        if explicit is not None:
            raise StitchError(f"anchor file not found: {explicit}")
        return None
    theirs = AnchorSetMeta.from_metadata(store.load_metadata_checked(path, kind="anchors"),
                                         str(path)).anchors_fingerprint
    if theirs != embeddings_meta.anchors_fingerprint:
        if explicit is not None:
            raise StitchError(f"{path} is another anchor set ({theirs}) than the embeddings were made with "
                              f"({embeddings_meta.anchors_fingerprint})")
        return None  # the recorded file was overwritten by another set since
    return path


def carry(path: Path) -> tuple[dict, dict[str, str]]:
    """The tensors (prefixed) and metadata (one ``anchor_set`` JSON entry) that copy the anchor file
    ``path`` into another file."""
    file = store.load(path, kind="anchors")
    meta = AnchorSetMeta.from_metadata(file.metadata, str(path))
    tensors = {PREFIX + name: tensor for name, tensor in file.tensors.items()}
    return tensors, {"anchor_set": json.dumps(meta.to_metadata(), sort_keys=True),
                     "anchor_samples": "stored" if meta.samples_stored else "none"}


def carried_anchor_set(tensors: dict, head_meta: HeadMeta, where: str) -> AnchorSet | None:
    """The anchor set a head carries (None if it carries none)."""
    meta = head_meta.carried_anchors(where)
    if meta is None:
        return None
    own = {name.removeprefix(PREFIX): t for name, t in tensors.items() if name.startswith(PREFIX)}
    return anchor_set_from(own, meta, where)
