"""``stitch relative`` core: new relative vectors for an existing embeddings file."""

from __future__ import annotations

from pathlib import Path

from stitchcli import store
from stitchcli.anchor_set import anchor_rows_in, load_anchor_set
from stitchcli.embed_job import relative_metadata
from stitchcli.errors import StitchError
from stitchcli.relspace import parse_similarity, relative_projection


def recompute_relative(embeddings: Path, anchors_path: Path, similarity: str, center: bool,
                       anchor_source: Path | None, out: Path) -> dict:
    parse_similarity(similarity)
    store.check_writable(out)
    file = store.load(embeddings, kind="embeddings")
    anchors = load_anchor_set(anchors_path)
    anchor_embeddings = None
    same_anchors = file.metadata.get("anchors_fingerprint") == anchors.fingerprint
    if "anchor_embeddings" in file.tensors and same_anchors:
        anchor_embeddings = file.tensors["anchor_embeddings"]
    if anchor_embeddings is None:
        anchor_embeddings = anchor_rows_in(file, anchors)
    if anchor_embeddings is None and anchor_source is not None:
        source = store.load(anchor_source, kind="embeddings")
        if source.metadata.get("encoder") != file.metadata.get("encoder"):
            raise StitchError(
                f"{anchor_source} comes from encoder {source.metadata.get('encoder')} but "
                f"{embeddings} from {file.metadata.get('encoder')}",
                hint="anchor embeddings must come from the same encoder.",
            )
        anchor_embeddings = anchor_rows_in(source, anchors)
    if anchor_embeddings is None:
        raise StitchError(
            f"no embeddings of anchor set {anchors.fingerprint} for {embeddings}",
            hint="embed with --anchors, or pass --anchor-embeddings-from the same encoder's "
            "train file that holds the anchor rows.",
        )
    tensors = dict(file.tensors)
    tensors["anchor_embeddings"] = anchor_embeddings
    tensors["relative"] = relative_projection(
        file.require("embeddings"), anchor_embeddings, similarity, center
    )
    metadata = {k: v for k, v in file.metadata.items() if k not in ("format", "kind")}
    metadata.update(relative_metadata(anchors.fingerprint, similarity, center, len(anchors.indices)))
    store.save(out, "embeddings", tensors, metadata)
    return metadata
