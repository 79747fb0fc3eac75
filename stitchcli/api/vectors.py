"""Vectors given in memory, laid out as the embeddings file the CLI would read (``MemoryRows``)."""

from __future__ import annotations

import torch

from stitchcli import defaults
from stitchcli.errors import StitchError
from stitchcli.metadata import EmbeddingsMeta, RelativeSpec
from stitchcli.storage import store
from stitchcli.storage.rows.memory import MemoryRows

SOURCE = "arrays"  # what a head trained from arrays records as its train file, source and split


def relative_settings(head) -> tuple[str, bool]:  # noqa: ANN001 - a heads.Head
    """The similarity and centring a head's relative vectors are made with (``predict --encoder``'s)."""
    spec = head.meta.relative
    return (spec.similarity, spec.center) if spec is not None else (defaults.SIMILARITY, defaults.CENTER)


def needs_anchors(head, translate: str | None) -> bool:  # noqa: ANN001 - a heads.Head
    """A relative head reads similarities to its anchors; an absolute one needs them for its map."""
    return head.space != "absolute" or head.translation(translate) is not None


def content_fingerprint(*tensors: torch.Tensor) -> str:
    """A fingerprint of vectors' values: what a source of arrays is identified by."""
    return store.fingerprint(*(t.contiguous().numpy().tobytes() for t in tensors))


def rows_of(x: torch.Tensor, *, labels: torch.Tensor | None = None, label_names: list[str] | None = None,
            anchors: torch.Tensor | None = None, relative: RelativeSpec | None = None,
            relative_vectors: bool = True, encoder: str = "?", pooling: str = "?", modality: str = "?",
            anchors_file: str | None = None, name: str = "the given vectors") -> MemoryRows:
    """``x`` (with labels, anchors and, as ``relative`` says and unless not ``relative_vectors``, their
    relative vectors) as an in-memory embeddings file."""
    from stitchcli.relspace import RelativeProjector

    tensors = {"embeddings": x, "indices": torch.arange(len(x), dtype=torch.long)}
    if labels is not None:
        tensors["labels"] = labels
    if anchors is not None:
        tensors["anchor_embeddings"] = anchors
    if relative is not None and relative_vectors:
        tensors["relative"] = RelativeProjector(anchors, relative.similarity, relative.center)(x)
    meta = EmbeddingsMeta(
        encoder=encoder, pooling=pooling, modality=modality, dataset=SOURCE, split=SOURCE,
        dataset_fingerprint=content_fingerprint(x), label_names=list(label_names or []),
        num_samples=len(x), dim=x.shape[1], labelled=bool(label_names), relative=relative,
        anchors_file=anchors_file)
    return MemoryRows(tensors, meta.to_metadata(), name)


def head_rows(head, x: torch.Tensor, anchors: torch.Tensor | None, translate: str | None,  # noqa: ANN001
              encoder: str | None) -> MemoryRows:
    """``x`` as the file ``stitch predict --embeddings`` would read for ``head``: with anchors, their
    relative vectors made as the head's were, under the head's anchor set."""
    if needs_anchors(head, translate) and anchors is None:
        how = "similarities to" if head.space == "relative" else "a map fitted on"
        raise StitchError(f"this {head.space} head reads other encoders through {how} its anchors: "
                          "pass anchors= (its anchors embedded by the encoder that made x)",
                          hint="or give samples and an encoder to head.predict, which embeds them.")
    spec = None
    fingerprint = head.meta.anchors_fingerprint
    if anchors is not None and fingerprint is not None:
        similarity, center = relative_settings(head)
        spec = RelativeSpec(fingerprint, similarity, center, len(anchors))
    return rows_of(x, anchors=anchors if spec is not None else None, relative=spec,
                   relative_vectors=head.space == "relative", encoder=encoder or "?")
