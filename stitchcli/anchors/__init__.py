"""Anchors: strategies that choose sample rows, anchor set files, parallel views, the aligned strategy.

``strategies`` (the registry: random, stratified, fps, k-means, aligned) → ``anchor_set`` (the file
that records the chosen rows and how to read their source again), with ``parallel`` (the same
anchors in another language or modality) and ``alignment`` (scores for the aligned strategy).
"""

from stitchcli.anchors.anchor_set import (
    AnchorSet,
    anchor_positions_in,
    choose_anchors,
    load_anchor_set,
    positions_among,
    save_anchor_set,
)
from stitchcli.anchors.strategies import (
    STRATEGIES,
    AnchorStrategy,
    anchor_set_fingerprint,
    get_strategy,
    register_strategy,
    select_anchors,
)

__all__ = ["STRATEGIES", "AnchorSet", "AnchorStrategy", "anchor_positions_in", "anchor_set_fingerprint",
           "choose_anchors", "get_strategy", "load_anchor_set", "positions_among", "register_strategy",
           "save_anchor_set", "select_anchors"]
