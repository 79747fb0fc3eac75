"""The metadata of an embeddings file (``stitch embed``, ``import``, ``relative``), parsed once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from stitchcli.data.registry import ReadOptions
from stitchcli.metadata import values as v
from stitchcli.metadata.common import RelativeSpec, read_options, unknown
from stitchcli.storage.plain import HEADER_KEYS
from stitchcli.storage.shards.plan import recorded_shard

_RELATIVE_KEYS = {"anchors_fingerprint", "similarity", "center", "num_anchors"}
_READ_KEYS = {"text_column", "label_column", "image_column", "streaming"}
_SHARD_KEYS = {"shard", "shard_rows", "shard_run"}


@dataclass(frozen=True)
class ShardInfo:
    """Which part of a sharded run a file holds: shard ``index`` of ``count``, rows ``start..stop``."""

    index: int
    count: int
    start: int
    stop: int
    run: str

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class EmbeddingsMeta:
    """Which encoder embedded which rows of which source, and (with anchors) how relative vectors
    were made. ``extra`` keeps keys this version does not model, carried into derived files.

    Only the encoder and the label names are required: files written by other tools (or by hand) may
    leave the rest out, which reads as None and is written back as absent, never as a made-up value.
    """

    encoder: str
    label_names: list[str]
    pooling: str | None = None
    modality: str | None = None
    dataset: str | None = None
    split: str | None = None
    dataset_fingerprint: str | None = None
    num_samples: int | None = None
    dim: int | None = None
    max_length: str | None = None  # the token limit applied ("none": images, or whole texts)
    dtype: str | None = None
    labelled: bool = True  # False: the source had no labels (label_names is empty)
    read: ReadOptions | None = None  # how the source was read (None: vectors imported by id)
    output_key: str | None = None  # what a rerun compares to find its output up to date
    shard: ShardInfo | None = None
    relative: RelativeSpec | None = None  # None: embedded without anchors
    anchors_dataset: str | None = None
    anchors_dataset_fingerprint: str | None = None
    anchors_file: str | None = None  # the anchor file used, so train-head can carry it into the head
    imported_from: str | None = None
    anchor_embeddings_from: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def anchors_fingerprint(self) -> str | None:
        return None if self.relative is None else self.relative.anchors_fingerprint

    @property
    def read_options(self) -> ReadOptions:
        """How to read the rows' source again: as recorded, else the defaults (with the split)."""
        return self.read if self.read is not None else ReadOptions(split=self.split)

    @property
    def has_source(self) -> bool:
        """Whether the rows came from a source that can be read again (not vectors imported by id)."""
        return bool(self.dataset) and self.imported_from is None and not self.dataset.startswith("import:")

    @property
    def has_labels(self) -> bool:
        """Whether the rows carry labels (unlabelled data record ``labelled: false`` and no names)."""
        return self.labelled and bool(self.label_names)

    def to_metadata(self) -> dict[str, str]:
        """The file's metadata as stitchcli writes it (the header keys are added by ``storage``)."""
        out = {"encoder": self.encoder, "pooling": self.pooling, "modality": self.modality,
               "max_length": self.max_length, "dtype": self.dtype, "dataset": self.dataset,
               "split": self.split, "dataset_fingerprint": self.dataset_fingerprint,
               "label_names": self.label_names, "labelled": None if self.labelled else "false",
               "num_samples": _text(self.num_samples), "dim": _text(self.dim), "output_key": self.output_key,
               "anchors_dataset": self.anchors_dataset,
               "anchors_dataset_fingerprint": self.anchors_dataset_fingerprint,
               "anchors_file": self.anchors_file, "imported_from": self.imported_from,
               "anchor_embeddings_from": self.anchor_embeddings_from}
        if self.read is not None:
            out |= self.read.as_metadata()
        if self.shard is not None:
            out |= {"shard": str(self.shard), "shard_rows": f"[{self.shard.start}, {self.shard.stop}]",
                    "shard_run": self.shard.run}
        if self.relative is not None:
            out |= self.relative.to_metadata()
        return {**self.extra, **v.written(out)}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str], where: str) -> EmbeddingsMeta:
        return cls(
            encoder=v.text(meta, "encoder", where), label_names=v.strings(meta, "label_names", where),
            pooling=v.text(meta, "pooling", where, None), modality=v.text(meta, "modality", where, None),
            dataset=v.text(meta, "dataset", where, None), split=v.text(meta, "split", where, None),
            dataset_fingerprint=v.text(meta, "dataset_fingerprint", where, None),
            num_samples=v.bounded(meta, "num_samples", where, None),
            dim=v.bounded(meta, "dim", where, None, least=1),
            max_length=v.text(meta, "max_length", where, None),
            dtype=v.text(meta, "dtype", where, None), labelled=v.flag(meta, "labelled", where, True),
            read=read_options(meta, where) if "text_column" in meta else None,
            output_key=v.text(meta, "output_key", where, None), shard=_shard(meta, where),
            relative=RelativeSpec.from_metadata(meta, where),
            anchors_dataset=v.text(meta, "anchors_dataset", where, None),
            anchors_dataset_fingerprint=v.text(meta, "anchors_dataset_fingerprint", where, None),
            anchors_file=v.text(meta, "anchors_file", where, None),
            imported_from=v.text(meta, "imported_from", where, None),
            anchor_embeddings_from=v.text(meta, "anchor_embeddings_from", where, None),
            extra=unknown(meta, _KNOWN),
        )

    @classmethod
    def of(cls, file) -> EmbeddingsMeta:  # noqa: ANN001 - a RowReader or StitchFile
        """The parsed metadata of an open embeddings file (anything with ``metadata`` and ``path``)."""
        return cls.from_metadata(file.metadata, str(file.path))


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _shard(meta: Mapping[str, str], where: str) -> ShardInfo | None:
    if "shard" not in meta:
        return None
    rows, run = v.text(meta, "shard_rows", where), v.text(meta, "shard_run", where)
    try:
        shard, start, stop = recorded_shard(v.text(meta, "shard", where), rows)
    except (TypeError, ValueError):
        from stitchcli.errors import StitchError

        raise StitchError(f"{where}: metadata 'shard' must read I/N with rows [start, stop]") from None
    return ShardInfo(shard.index, shard.count, start, stop, run)


_KNOWN = ({f.name for f in fields(EmbeddingsMeta)} - {"read", "shard", "relative", "extra"}) \
    | _RELATIVE_KEYS | _READ_KEYS | _SHARD_KEYS | HEADER_KEYS
