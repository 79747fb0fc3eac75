"""What several file kinds record alike: how a source was read, and how relative vectors were made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stitchcli.data.registry import ReadOptions
from stitchcli.metadata import values as v


def read_options(meta: Mapping[str, str], where: str) -> ReadOptions:
    """How the file whose metadata is ``meta`` read its source (``ReadOptions.as_metadata`` + split)."""
    defaults = ReadOptions()
    return ReadOptions(split=v.text(meta, "split", where, None),
                       text_column=v.text(meta, "text_column", where, defaults.text_column),
                       label_column=v.text(meta, "label_column", where, defaults.label_column),
                       image_column=v.text(meta, "image_column", where, defaults.image_column),
                       streaming=v.flag(meta, "streaming", where, False))


@dataclass(frozen=True)
class RelativeSpec:
    """How relative vectors were computed (and so must be again): the anchor set, similarity, centring."""

    anchors_fingerprint: str
    similarity: str
    center: bool
    num_anchors: int

    def to_metadata(self) -> dict[str, str]:
        return {"anchors_fingerprint": self.anchors_fingerprint, "similarity": self.similarity,
                "center": "true" if self.center else "false", "num_anchors": str(self.num_anchors)}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str], where: str) -> RelativeSpec | None:
        """None for a file made without anchors (it records no anchor set)."""
        if "anchors_fingerprint" not in meta:
            return None
        return cls(v.text(meta, "anchors_fingerprint", where), v.text(meta, "similarity", where),
                   v.flag(meta, "center", where), v.bounded(meta, "num_anchors", where, least=1))

    def differs_from(self, other: RelativeSpec | None) -> tuple[str, str, str] | None:
        """The first of similarity and centring in which ``other`` differs: (key, ours, theirs)."""
        for key in ("similarity", "center"):
            ours = self.to_metadata()[key]
            theirs = other.to_metadata()[key] if other is not None else "none"
            if ours != theirs:
                return key, ours, theirs
        return None


def fingerprint_of(spec: RelativeSpec | None) -> str | None:
    """The anchor set a file's relative vectors or anchor embeddings belong to (None: no anchors)."""
    return None if spec is None else spec.anchors_fingerprint


def unknown(meta: Mapping[str, str], known: set[str]) -> dict[str, str]:
    """The keys of ``meta`` a type does not model: carried over as they are when a file is derived."""
    return {key: value for key, value in meta.items() if key not in known}
