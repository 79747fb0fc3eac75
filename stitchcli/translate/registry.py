"""The translation map registry, without torch: method names for ``--help`` and up-front checks; a
map is imported from ``maps`` on first use. "No map" is not an entry: ``none`` on the command line,
None inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stitchcli.registry import Registry

NO_MAP = "none"

# ``(source_anchors, target_anchors) -> translate``: fitted on paired anchor embeddings (row i of both
# is the same sample); ``translate(x)`` maps source embeddings into the target's space.
TRANSLATIONS: Registry[Callable[[Any, Any], Callable[[Any], Any]]] = Registry(
    "translation", group="stitchcli.translations", hint=f"choose one of {NO_MAP}, {{choices}}.")
TRANSLATIONS.register("procrustes", "stitchcli.translate.maps:fit_procrustes",
                      help="orthogonal, after standard scaling")
TRANSLATIONS.register("affine", "stitchcli.translate.maps:fit_affine", help="least squares with a bias")
TRANSLATIONS.register("ridge", "stitchcli.translate.maps:fit_ridge", help="affine with a ridge penalty")
TRANSLATIONS.register("auto", "stitchcli.translate.maps:fit_auto",
                      help="procrustes or ridge, chosen per pair on held-out anchors")


def translation_choices(*, described: bool = False, first: str | None = NO_MAP) -> str:
    """``"none, procrustes, affine, ridge or auto"`` for ``--translate`` help texts (``first``: the
    name put first, ``none`` unless given; None leaves ``none`` out)."""
    before = [] if first is None else [first]
    after = [NO_MAP] if first not in (None, NO_MAP) else []
    return TRANSLATIONS.choices_text(described=described, before=before, after=after)
