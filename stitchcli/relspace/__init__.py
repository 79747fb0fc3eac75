"""Relative space: similarities to anchors, and how heads normalise and sparsify those vectors."""

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
    relative_projection,
)
from stitchcli.relspace.sparse import sparsify_topk_
from stitchcli.relspace.transform import RelativeTransform, anchor_self_relative

__all__ = [
    "NORMALIZATIONS", "SIMILARITIES", "Normalization", "RelativeProjector", "RelativeTransform", "Similarity",
    "anchor_self_relative", "column_statistics", "get_normalization", "get_similarity",
    "invariances_of", "parse_similarity", "register_normalization", "register_similarity",
    "relative_projection", "sparsify_topk_",
]
