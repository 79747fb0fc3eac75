"""The metadata of a head file (``stitch train-head``), parsed and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from stitchcli import defaults
from stitchcli.errors import StitchError
from stitchcli.metadata import values as v
from stitchcli.metadata.anchors import AnchorSetMeta
from stitchcli.metadata.common import RelativeSpec, unknown
from stitchcli.storage.plain import HEADER_KEYS

# Scores on the head's own train rows, each written with the digits train-head always gave it.
SCORE_DIGITS = {"train_accuracy": ".6f", "train_mse": ".6g", "train_r2": ".6f"}


@dataclass(frozen=True)
class HeadMeta:
    """A head's shape (enough to rebuild its module), what it reads (space, encoder, relative
    transform, anchors, map) and how it was trained. ``translate`` None: it reads other encoders
    without a map. ``extra`` keeps keys this version does not model."""

    arch: str
    task: str
    in_dim: int
    num_classes: int  # the number of outputs of a head of values
    space: str
    encoder: str
    label_names: list[str]
    hidden: int = defaults.HIDDEN  # recorded for the mlp only, the one head with a hidden layer
    activation: str = defaults.ACTIVATION
    normalize: str = "none"
    topk: int = 0
    topk_power: float = 1.0
    seed: int = 0
    train_file: str | None = None
    dataset: str | None = None
    dataset_fingerprint: str | None = None
    dim: int | None = None  # the width of the train file's embeddings
    scores: dict[str, float] = field(default_factory=dict)  # keys of SCORE_DIGITS
    target_columns: list[str] | None = None  # regression: the source's value columns
    target_names: list[str] | None = None
    target_size: int | None = None  # reconstruction: images resized to size × size, 1 or 3 channels
    target_channels: int | None = None
    epochs: int | None = None  # Adam's settings, for heads trained by it
    lr: float | None = None
    batch_size: int | None = None
    temperature: float | None = None  # prototype heads: how predict turns cosines into scores
    translate: str | None = None
    # Translated heads: the most self-learning rounds their map is refined by on another encoder's file
    # (``translate/refine.py``; None: not recorded, defaults.REFINE_ROUNDS), and the rows of their own
    # encoder they carry for it (``pool_embeddings``).
    refine: int | None = None
    pool_rows: int = 0
    relative: RelativeSpec | None = None
    anchor_set: str | None = None  # the carried anchor set's metadata, as JSON (``anchors.carried``)
    anchor_samples: str | None = None  # "stored" or "none", copied from that set
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def anchors_fingerprint(self) -> str | None:
        return None if self.relative is None else self.relative.anchors_fingerprint

    def carried_anchors(self, where: str) -> AnchorSetMeta | None:
        """The metadata of the anchor set the head carries (None if it carries none)."""
        return None if not self.anchor_set else AnchorSetMeta.from_json(self.anchor_set, where)

    def to_metadata(self) -> dict[str, str]:
        mlp = self.arch == "mlp"
        out = {
            "arch": self.arch, "task": self.task, "in_dim": str(self.in_dim),
            "num_classes": str(self.num_classes), "hidden": str(self.hidden) if mlp else None,
            "activation": self.activation if mlp else None, "space": self.space, "encoder": self.encoder,
            "label_names": self.label_names, "normalize": self.normalize, "topk": str(self.topk),
            "topk_power": repr(float(self.topk_power)), "seed": str(self.seed), "train_file": self.train_file,
            "dataset": self.dataset, "dataset_fingerprint": self.dataset_fingerprint,
            "dim": None if self.dim is None else str(self.dim),
            **{key: format(value, SCORE_DIGITS[key]) for key, value in self.scores.items()},
            "target_columns": self.target_columns, "target_names": self.target_names,
            "target_size": _text(self.target_size), "target_channels": _text(self.target_channels),
            "epochs": _text(self.epochs), "lr": _text(self.lr), "batch_size": _text(self.batch_size),
            "temperature": None if self.temperature is None else f"{self.temperature:.6g}",
            "translate": self.translate,
            "refine": _text(self.refine),
            "pool_rows": str(self.pool_rows) if self.pool_rows else None,
            "anchor_set": self.anchor_set, "anchor_samples": self.anchor_samples,
            **(self.relative.to_metadata() if self.relative is not None else {}),
        }
        return {**self.extra, **v.written(out)}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str], where: str) -> HeadMeta:
        where = f"head file {where}"
        names = v.strings(meta, "label_names", where)
        translate = v.text(meta, "translate", where, None)
        return cls(
            arch=v.text(meta, "arch", where), task=v.text(meta, "task", where),
            in_dim=_positive(meta, "in_dim", where), num_classes=_positive(meta, "num_classes", where),
            space=v.text(meta, "space", where), encoder=v.text(meta, "encoder", where), label_names=names,
            hidden=_positive(meta, "hidden", where, defaults.HIDDEN),
            activation=v.text(meta, "activation", where, defaults.ACTIVATION),
            normalize=v.text(meta, "normalize", where), topk=v.bounded(meta, "topk", where),
            topk_power=v.positive_number(meta, "topk_power", where), seed=v.integer(meta, "seed", where),
            train_file=v.text(meta, "train_file", where, None), dataset=v.text(meta, "dataset", where, None),
            dataset_fingerprint=v.text(meta, "dataset_fingerprint", where, None),
            dim=v.bounded(meta, "dim", where, None, least=1),
            scores={key: v.number(meta, key, where) for key in SCORE_DIGITS if key in meta},
            target_columns=v.strings(meta, "target_columns", where, None),
            target_names=v.strings(meta, "target_names", where, None),
            target_size=v.bounded(meta, "target_size", where, None, least=1),
            target_channels=v.bounded(meta, "target_channels", where, None, least=1),
            epochs=v.bounded(meta, "epochs", where, None, least=1),
            lr=v.positive_number(meta, "lr", where, None),
            batch_size=v.bounded(meta, "batch_size", where, None, least=1),
            temperature=v.positive_number(meta, "temperature", where, None),
            translate=None if translate == "none" else translate,
            refine=v.bounded(meta, "refine", where, None),
            pool_rows=v.bounded(meta, "pool_rows", where, 0),
            relative=RelativeSpec.from_metadata(meta, where),
            anchor_set=v.text(meta, "anchor_set", where, None),
            anchor_samples=v.text(meta, "anchor_samples", where, None),
            extra=unknown(meta, _KNOWN),
        )


def _positive(meta: Mapping[str, str], key: str, where: str, default=v.REQUIRED) -> int:
    value = v.integer(meta, key, where, default)
    if value < 1:
        raise StitchError(f"{where}: {key} must be positive, got {value}")
    return value


def _text(value) -> str | None:  # noqa: ANN001 - a number or None
    return None if value is None else str(value)


_KNOWN = ({f.name for f in fields(HeadMeta)} - {"scores", "relative", "extra"}) | set(SCORE_DIGITS) \
    | {"anchors_fingerprint", "similarity", "center", "num_anchors"} | HEADER_KEYS
