"""The two files `stitch check` compares, checked from their headers alone (no torch) and then read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stitchcli.errors import IncompatibleError, StitchError
from stitchcli.metadata import EmbeddingsMeta, HeadMeta
from stitchcli.storage import store
from stitchcli.translate.registry import NO_MAP

ANCHOR_TENSOR = "anchor_embeddings"


@dataclass(frozen=True)
class Side:
    """One side of a check: a head file or an embeddings file, its encoder and anchor set."""

    path: Path
    kind: str  # "head" or "embeddings"
    encoder: str
    anchors_fingerprint: str | None
    has_anchors: bool  # whether it holds anchor embeddings
    translate: str | None = None  # the map a translating head records (None: not a head, or none)


def inspect_side(path: Path, *, head_allowed: bool) -> Side:
    """``path``'s kind, encoder and anchor set from its header (a head only where ``head_allowed``)."""
    header = store.inspect(path, None if head_allowed else "embeddings")
    kind = header.kind
    if kind == "head" and head_allowed:
        meta = HeadMeta.from_metadata(header.metadata, str(path))
        mapped = meta.space == "absolute" and meta.translate not in (None, NO_MAP)
        return Side(Path(path), "head", meta.encoder, meta.anchors_fingerprint,
                    ANCHOR_TENSOR in header.tensors, meta.translate if mapped else None)
    if kind != "embeddings":
        raise StitchError(f"{path} is {'an' if (kind or 'x')[0] in 'aeiou' else 'a'} {kind} file, expected "
                          "a head or an embeddings file",
                          hint="give a head (or the embeddings file it was trained on), then the "
                          "file to read.")
    meta = EmbeddingsMeta.from_metadata(header.metadata, str(path))
    return Side(Path(path), "embeddings", meta.encoder, meta.anchors_fingerprint,
                ANCHOR_TENSOR in header.tensors)


def check_pair(head_side: Path, file: Path) -> tuple[Side, Side]:
    """Both sides, refused in one line unless both hold anchor embeddings of the same anchor set."""
    target = inspect_side(head_side, head_allowed=True)
    source = inspect_side(file, head_allowed=False)
    for side in (target, source):
        if not side.has_anchors or side.anchors_fingerprint is None:
            raise IncompatibleError(f"{side.path} holds no anchor embeddings to fit a map on",
                                    hint="embed it with --anchors (train a head on such a file).")
    if target.anchors_fingerprint != source.anchors_fingerprint:
        raise IncompatibleError(
            f"{source.path} used anchor set {source.anchors_fingerprint} but {target.path} holds anchor set "
            f"{target.anchors_fingerprint}", hint="embed both with the same ANCHORS.safetensors.")
    return target, source


def read_side(side: Side, pool_cap: int, seed: int = 0):  # noqa: ANN201 - (anchors, pool or None)
    """The anchor embeddings of ``side`` and at most ``pool_cap`` of its unpaired rows (a seeded
    sample; a head's ``pool_embeddings`` if it carries them, else None)."""
    if side.kind == "head":
        from stitchcli.heads import load_head

        head = load_head(side.path)
        pool = head.pool_embeddings
        return head.anchor_embeddings.float(), None if pool is None else pool.float()
    from stitchcli.heads.pool import pool_sample
    from stitchcli.storage import open_rows

    rows = open_rows(side.path)
    anchors = rows.read(ANCHOR_TENSOR).float()
    return anchors, pool_sample(rows, pool_cap, seed) if rows.num_rows else None


def check_files(head_side: Path, file: Path):  # noqa: ANN201 - (Side, Side, Forecast)
    """Both sides checked and read, and the forecast of the head's side reading the file (through
    the map a head records, else the default)."""
    from stitchcli.check.forecasting import forecast
    from stitchcli.check.signals import POOL_CAP

    target, source = check_pair(head_side, file)
    target_anchors, target_pool = read_side(target, POOL_CAP)
    source_anchors, source_pool = read_side(source, POOL_CAP)
    return target, source, forecast(target_anchors, source_anchors, target_pool, source_pool,
                                    target.translate)
