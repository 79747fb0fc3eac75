"""The metadata of an anchor set (``stitch anchors``, or the copy a head carries), parsed once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from stitchcli.data.registry import ReadOptions
from stitchcli.errors import StitchError
from stitchcli.metadata import values as v
from stitchcli.metadata.common import read_options, unknown
from stitchcli.storage.plain import HEADER_KEYS

_KEYS = {"dataset", "split", "dataset_fingerprint", "anchors_fingerprint", "strategy", "seed", "num_anchors",
         "label_names", "views", "modality", "num_rows", "samples", "embeddings_encoder",
         "text_column", "label_column", "image_column", "streaming", "samples_sha256"}


@dataclass(frozen=True)
class AnchorSetMeta:
    """Which rows of which source are the anchors, how they were chosen, and whether their samples are
    kept in the file. ``views`` are the parallel views' JSON entries (``anchors.parallel``)."""

    dataset: str
    split: str
    dataset_fingerprint: str
    anchors_fingerprint: str
    strategy: str
    seed: int
    num_anchors: int
    label_names: list[str]
    read: ReadOptions
    modality: str
    num_rows: int  # rows of the source (of the first view)
    samples_stored: bool
    views: list[dict] | None = None  # more than one view only (``--parallel``)
    # The encoder whose embeddings chose them (fps, kmeans, aligned): its spec, or a JSON list of specs.
    embeddings_encoder: str | None = None
    # The SHA-256 of the stored samples (``anchors.samples.samples_digest``), checked when they are read;
    # None: no samples, or a file written before it was recorded.
    samples_sha256: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def to_metadata(self) -> dict[str, str]:
        return {**self.extra, **v.written({
            "dataset": self.dataset, "split": self.split, "dataset_fingerprint": self.dataset_fingerprint,
            "anchors_fingerprint": self.anchors_fingerprint, "strategy": self.strategy,
            "seed": str(self.seed), "num_anchors": str(self.num_anchors), "label_names": self.label_names,
            **self.read.as_metadata(), "views": self.views, "modality": self.modality,
            "num_rows": str(self.num_rows), "samples": "stored" if self.samples_stored else "none",
            "embeddings_encoder": self.embeddings_encoder, "samples_sha256": self.samples_sha256})}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str], where: str) -> AnchorSetMeta:
        views = v.decoded(meta, "views", where, None)
        if views is not None and (not isinstance(views, list) or not all(isinstance(x, dict) for x in views)):
            raise _bad(where, "views must be a JSON list of objects")
        samples = v.text(meta, "samples", where)
        if samples not in ("stored", "none"):
            raise _bad(where, f"samples must be stored or none, got {samples!r}")
        return cls(
            dataset=v.text(meta, "dataset", where), split=v.text(meta, "split", where),
            dataset_fingerprint=v.text(meta, "dataset_fingerprint", where),
            anchors_fingerprint=v.text(meta, "anchors_fingerprint", where),
            strategy=v.text(meta, "strategy", where), seed=v.integer(meta, "seed", where),
            num_anchors=v.bounded(meta, "num_anchors", where, least=1),
            label_names=v.strings(meta, "label_names", where), read=read_options(meta, where),
            modality=v.text(meta, "modality", where), num_rows=v.bounded(meta, "num_rows", where, least=-1),
            samples_stored=samples == "stored", views=views,
            embeddings_encoder=v.text(meta, "embeddings_encoder", where, None),
            samples_sha256=v.text(meta, "samples_sha256", where, None) if samples == "stored" else None,
            extra=unknown(meta, _KEYS | HEADER_KEYS),
        )

    @classmethod
    def from_json(cls, raw: str, where: str) -> AnchorSetMeta:
        """The copy a head carries (its ``anchor_set`` entry: the anchor file's metadata as JSON)."""
        try:
            meta = json.loads(raw)
        except ValueError:
            meta = None
        if not isinstance(meta, dict) or not all(isinstance(x, str) for x in meta.values()):
            raise _bad(where, "its anchor_set entry is unreadable")
        return cls.from_metadata(meta, where)

    def describe(self) -> str:
        """One line for ``stitch info``: how many anchors of what, and the set's identity."""
        samples = "samples stored" if self.samples_stored else "no samples"
        return (f"{self.num_anchors} {self.strategy} anchors of {self.dataset} "
                f"(set {self.anchors_fingerprint}, {samples})")


def _bad(where: str, message: str) -> StitchError:
    return StitchError(f"{where}: {message}")
