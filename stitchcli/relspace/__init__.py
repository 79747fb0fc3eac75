"""Relative space: similarities to anchors, and how heads normalise and sparsify those vectors.

``registry`` (similarities and normalisations by name, no torch) ← ``similarity``
(``RelativeProjector``) → ``normalize`` and ``sparse`` → ``transform`` (what a head does to raw
relative vectors); ``job`` (``stitch relative`` on a stored file) sits above
anchors and storage and loads on first use, so the math here imports neither.
"""

from stitchcli._lazy import lazy_exports
from stitchcli.relspace.registry import (
    NORMALIZATIONS,
    SIMILARITIES,
    Normalization,
    get_normalization,
    register_normalization,
)

__all__ = [
    "NORMALIZATIONS", "SIMILARITIES", "Normalization", "RelativeProjector", "RelativeTransform", "Similarity",
    "anchor_self_relative", "column_statistics", "get_normalization", "get_similarity",
    "invariances_of", "parse_similarity", "register_normalization", "register_similarity",
    "recompute_relative", "relative_projection", "sparsify_topk_",
]

# The registries import no torch (``--help`` lists their names); the math loads on first use.
__getattr__, __dir__ = lazy_exports(__name__, {
    "column_statistics": ".normalize",
    **dict.fromkeys(["RelativeProjector", "Similarity", "get_similarity", "invariances_of",
                     "parse_similarity", "register_similarity", "relative_projection"],
                    ".similarity"),
    "sparsify_topk_": ".sparse", "RelativeTransform": ".transform", "anchor_self_relative": ".transform",
    "recompute_relative": ".job",
})
