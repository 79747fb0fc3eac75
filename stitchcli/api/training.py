"""``train_head`` on arrays: the head ``stitch train-head`` trains on a file of the same rows."""

from __future__ import annotations

from pathlib import Path

from stitchcli import defaults
from stitchcli.api import arrays
from stitchcli.api.heads import StitchHead
from stitchcli.errors import StitchError


def train_head(x, labels, *, anchors=None, label_names=None, anchor_set: str | Path | None = None,
               encoder=None, space: str = defaults.SPACE, arch: str | None = None,
               translate: str | None = None, similarity: str = defaults.SIMILARITY,
               center: bool = defaults.CENTER, normalize: str = defaults.NORMALIZE, topk: int = defaults.TOPK,
               topk_power: float = defaults.TOPK_POWER, hidden: int = defaults.HIDDEN,
               activation: str = defaults.ACTIVATION, epochs: int = defaults.EPOCHS, lr: float = defaults.LR,
               batch_size: int = defaults.BATCH_SIZE, weight_decay: float = 0.0, seed: int = 0,
               refine: int = defaults.REFINE_ROUNDS, pool_rows: int = defaults.POOL_ROWS) -> StitchHead:
    """Train a classification head on embeddings held in memory, with ``stitch train-head``'s defaults.

    Args:
        x: train embeddings (N, D): a list of rows, a numpy array or a torch tensor.
        labels: N class names (strings, numbered in sorted order as ``stitch embed`` numbers a
            source's labels), or N integer ids (into ``label_names`` if given).
        anchors: the anchors' embeddings (K, D) by the same encoder. Needed by relative heads and by
            absolute heads that translate (the default): the head carries them. Given ``anchor_set``
            and an ``Encoder`` instead, the set's anchors are embedded with it.
        label_names: the class names that integer ``labels`` index.
        anchor_set: the anchor file (``stitch anchors``) the anchors were embedded from, in its order:
            the head carries it, so ``predict(samples, encoder=...)`` can embed the anchors anywhere.
        encoder: the ``Encoder`` (or its spec) that made ``x``, recorded in the head.
        space, arch, translate, similarity, center, normalize, topk, topk_power, hidden, activation,
            epochs, lr, batch_size, weight_decay, seed: as ``stitch train-head`` and ``stitch embed``
            (``similarity`` and ``center``: how the relative vectors are made from ``anchors``).
        refine, pool_rows: as ``train-head --refine`` and ``--pool-rows`` (translated heads: the most
            rounds their map is refined by on other encoders, and how many rows of ``x`` they carry for it).

    Returns:
        A ``StitchHead``; ``save(path)`` writes the tensors and metadata ``stitch train-head`` writes for
        a file of the same rows (apart from the names of the train file and its source).

    Example:
        >>> head = st.train_head(x_train, labels, anchors=anchor_x)
        >>> head.save("head.safetensors")
    """
    from stitchcli.api.encoder import Encoder
    from stitchcli.api.vectors import SOURCE, content_fingerprint, rows_of
    from stitchcli.heads import TrainRequest
    from stitchcli.heads import train_head as train
    from stitchcli.heads.inputs import SPACES
    from stitchcli.metadata import RelativeSpec
    from stitchcli.relspace import RelativeTransform

    if space not in SPACES:
        raise StitchError(f"unknown space {space!r}", hint=f"choose {' or '.join(SPACES)}.")
    for key, value in (("topk", topk), ("hidden", hidden), ("epochs", epochs), ("batch_size", batch_size),
                       ("seed", seed), ("refine", refine), ("pool_rows", pool_rows)):
        arrays.whole(value, key, None)  # the ranges: checked as train-head checks them
    for key, value in (("lr", lr), ("weight_decay", weight_decay), ("topk_power", topk_power)):
        arrays.real(value, key)
    for key, value, example in (("similarity", similarity, "cosine"), ("normalize", normalize, "none"),
                                ("activation", activation, "gelu")):
        arrays.name(value, key, example)
    arrays.flag(center, "center")
    if anchor_set is not None:
        arrays.path(anchor_set, "anchor_set")
    x = arrays.matrix(x, "x")
    ids, names = arrays.labels(labels, len(x), label_names)
    if anchors is None and anchor_set is not None and isinstance(encoder, Encoder):
        anchors = _embedded_anchors(anchor_set, encoder)
    if anchors is not None:
        anchors = arrays.matrix(anchors, "anchors", dim=x.shape[1])
    if translate is None:  # as train-head: absolute heads translate by default, relative ones never
        translate = defaults.TRANSLATE if space == "absolute" else "none"
    if anchors is None and (space == "relative" or translate != "none"):
        raise StitchError(f"a {space} head that reads other encoders needs anchors= (the anchors' "
                          "embeddings by the encoder that made x)",
                          hint="or give translate='none' for an absolute head that reads this encoder only.")
    relative = anchors_file = None
    if anchors is not None:
        fingerprint = content_fingerprint(anchors)
        if anchor_set is not None:
            fingerprint, anchors_file = _anchor_set(anchor_set, len(anchors))
        relative = RelativeSpec(fingerprint, similarity, bool(center), len(anchors))
    elif anchor_set is not None:
        raise StitchError("anchor_set= needs anchors= (the set's anchors embedded by the encoder of x)")
    if isinstance(encoder, Encoder):
        spec, pooling, modality = encoder.spec, encoder.pooling, encoder.modality
    else:
        spec, pooling, modality = str(encoder) if encoder is not None else "?", "?", "?"
    rows = rows_of(x, labels=ids, label_names=names, anchors=anchors, relative=relative,
                   relative_vectors=space == "relative", encoder=spec, pooling=pooling,
                   modality=modality, anchors_file=anchors_file, name="x")
    request = TrainRequest(
        embeddings=Path(SOURCE), space=space, arch=arch, hidden=hidden, activation=activation, epochs=epochs,
        lr=lr, batch_size=batch_size, weight_decay=weight_decay, seed=seed,
        transform=RelativeTransform(normalize, topk, topk_power), translate=translate,
        anchors=None if anchors_file is None else Path(anchors_file), refine=refine, pool_rows=pool_rows)
    return StitchHead(train(request, rows))


def _anchor_set(path: str | Path, count: int) -> tuple[str, str]:
    """The fingerprint and resolved path of an anchor file holding ``count`` anchors."""
    from stitchcli.anchors.anchor_set import load_anchor_set

    if not Path(path).is_file():
        raise StitchError(f"anchor file not found: {path}")
    loaded = load_anchor_set(Path(path))
    if len(loaded.indices) != count:
        raise StitchError(f"anchors has {count} rows but the anchor set {path} holds {len(loaded.indices)}")
    return loaded.fingerprint, str(Path(path).resolve())


def _embedded_anchors(path: str | Path, encoder):  # noqa: ANN001, ANN202 - an api Encoder -> tensor
    """The anchors of the anchor file ``path``, embedded by ``encoder`` (as ``stitch embed`` embeds them)."""
    from stitchcli.anchors.anchor_set import load_anchor_set

    if not Path(path).is_file():
        raise StitchError(f"anchor file not found: {path}")
    view = load_anchor_set(Path(path)).viewed(None, "python", encoder.modality)
    return encoder.embed_dataset(view.load_source(), view.indices.tolist())
