"""``stitch relative`` core: new relative vectors for an existing embeddings file, a block at a time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from stitchcli.anchors.anchor_set import anchor_positions_in, load_anchor_set
from stitchcli.errors import StitchError
from stitchcli.metadata import EmbeddingsMeta, RelativeSpec
from stitchcli.relspace import RelativeProjector, parse_similarity
from stitchcli.storage.rows import RowReader, RowWriter, copy_rows, open_rows

BLOCK_ROWS = 65_536


def anchor_rows_of(reader: RowReader, anchors) -> torch.Tensor | None:
    """The anchors' embeddings read from a file that embeds their rows (in any of the set's
    parallel views), else None."""
    meta = EmbeddingsMeta.of(reader)
    theirs = meta.dataset_fingerprint
    if not reader.has("indices") or all(view.fingerprint != theirs for view in anchors.views):
        return None
    view = anchors.viewed(None, theirs, None)
    positions = anchor_positions_in(meta, reader.read("indices"), view)
    return None if positions is None else reader.take("embeddings", positions)


def recompute_relative(embeddings: Path, anchors_path: Path, similarity: str, center: bool,
                       anchor_source: Path | None, out: Path, block_rows: int = BLOCK_ROWS) -> EmbeddingsMeta:
    parse_similarity(similarity)
    reader = open_rows(embeddings)
    reader.check("embeddings")
    anchors = load_anchor_set(anchors_path)
    meta = EmbeddingsMeta.of(reader)
    anchor_embeddings = None
    if reader.has("anchor_embeddings") and meta.anchors_fingerprint == anchors.fingerprint:
        anchor_embeddings = reader.read("anchor_embeddings")
    if anchor_embeddings is None:
        anchor_embeddings = anchor_rows_of(reader, anchors)
    if anchor_embeddings is None and anchor_source is not None:
        source = open_rows(anchor_source)
        theirs = EmbeddingsMeta.of(source).encoder
        if theirs != meta.encoder:
            raise StitchError(
                f"{anchor_source} comes from encoder {theirs} but {embeddings} from {meta.encoder}",
                hint="anchor embeddings must come from the same encoder.",
            )
        anchor_embeddings = anchor_rows_of(source, anchors)
    if anchor_embeddings is None:
        raise StitchError(
            f"no embeddings of anchor set {anchors.fingerprint} for {embeddings}",
            hint="embed with --anchors, or pass --anchor-embeddings-from the same encoder's "
            "train file that holds the anchor rows.",
        )
    meta = replace(meta, relative=RelativeSpec(anchors.fingerprint, similarity, center, len(anchors.indices)))
    metadata = meta.to_metadata()
    project = RelativeProjector(anchor_embeddings, similarity, center)
    kept = [name for name in ("embeddings", "labels", "indices") if reader.has(name)]
    columns = {name: (torch.float32 if name == "embeddings" else torch.int64, reader.shape(name))
               for name in kept}
    columns |= {"anchor_embeddings": (torch.float32, tuple(anchor_embeddings.shape)),
                "relative": (torch.float32, (reader.num_rows, project.width))}
    # Everything is read before the rename, so rewriting the input in place is safe.
    with RowWriter(out, "embeddings", columns, metadata) as writer:
        copy_rows(reader, writer, [name for name in kept if name != "embeddings"], block_rows)
        for start, block in reader.blocks("embeddings", block_rows):
            writer.write("embeddings", start, block)
            writer.write("relative", start, project(block))
        writer.write("anchor_embeddings", 0, anchor_embeddings)
    return meta
