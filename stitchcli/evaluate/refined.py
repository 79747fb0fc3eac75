"""The map a translated head reads another encoder's file through: fitted on the shared anchors, then
refined (``translate/refine.py``) with the unpaired rows the head carries and a sample of the file's."""

from __future__ import annotations

from stitchcli import defaults, events
from stitchcli.heads.head import Head
from stitchcli.heads.pool import pool_sample
from stitchcli.storage.rows import RowReader

NO_POOL = "no_pool"  # the key of the one warning a head without a pool gives (``Head.warned``)


def head_map(head: Head, file: RowReader, method: str, refine: int | None = None):  # noqa: ANN201 - a Translator
    """``method`` fitted from ``file``'s anchor embeddings to ``head``'s, refined for up to ``refine``
    rounds (None: what the head records) when the head carries pool rows. On the head's own encoder
    (identical anchors) the map stays the identity; a head without pool rows falls back to the plain
    map, with one warning."""
    from stitchcli.translate.maps import fit_translation, same_space

    source = file.read("anchor_embeddings").float()
    target = head.anchor_embeddings.float()
    rounds = head.refinement(refine)
    if rounds == 0 or same_space(source, target):  # the head's own encoder is never refined
        return fit_translation(method, source, target)
    if head.pool_embeddings is None:
        if NO_POOL not in head.warned:
            head.warned.add(NO_POOL)
            events.warn(f"head {head.path} carries no pool rows, so its map cannot be refined "
                        f"({rounds} rounds asked): using the plain {method} map "
                        "(train it again without --pool-rows 0 to refine)")
        return fit_translation(method, source, target)
    from stitchcli.translate.refine import fit_refined

    cap = max(defaults.POOL_ROWS, head.meta.pool_rows)
    source_pool = pool_sample(file, cap, head.meta.seed)
    return fit_refined(method, source, target, source_pool, head.pool_embeddings.float(), rounds,
                       head.meta.seed)

