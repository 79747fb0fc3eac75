"""Relative space: similarities to anchors, and how heads normalise and sparsify those vectors.

``similarity`` (the registry, ``RelativeProjector``) → ``normalize`` and ``sparse`` → ``transform``
(what a head does to raw relative vectors); ``job`` (``stitch relative`` on a stored file) sits above
anchors and storage and loads on first use, so the math here imports neither.
"""

from stitchcli._lazy import lazy_exports
from stitchcli.relspace.normalize import (
    NORMALIZATIONS,
    Normalization,
    column_statistics,
    get_normalization,
    register_normalization,
)
from stitchcli.relspace.similarity import (
    SIMILARITIES,
    RelativeProjector,
    Similarity,
    get_similarity,
    invariances_of,
    parse_similarity,
    register_similarity,
    relative_metadata,
    relative_projection,
)
from stitchcli.relspace.sparse import sparsify_topk_
from stitchcli.relspace.transform import RelativeTransform, anchor_self_relative

__all__ = [
    "NORMALIZATIONS", "SIMILARITIES", "Normalization", "RelativeProjector", "RelativeTransform", "Similarity",
    "anchor_self_relative", "column_statistics", "get_normalization", "get_similarity",
    "invariances_of", "parse_similarity", "register_normalization", "register_similarity",
    "recompute_relative", "relative_metadata", "relative_projection", "sparsify_topk_",
]

__getattr__, __dir__ = lazy_exports(__name__, {"recompute_relative": ".job"})
