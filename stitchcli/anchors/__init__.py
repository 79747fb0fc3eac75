"""Anchors: strategies that choose sample rows, anchor set files, parallel views, the aligned strategy.

``registry`` (strategies by name, no torch) ← ``strategies`` (random, stratified, fps, k-means,
aligned) → ``anchor_set`` (the file that records the chosen rows and how to read their source
again), with ``parallel`` (the same
anchors in another language or modality) and ``alignment`` (scores for the aligned strategy).
"""

from stitchcli._lazy import lazy_exports
from stitchcli.anchors.registry import STRATEGIES, get_strategy

__all__ = ["STRATEGIES", "AnchorSet", "AnchorStrategy", "anchor_positions_in", "anchor_set_fingerprint",
           "choose_anchors", "get_strategy", "load_anchor_set", "positions_among", "register_strategy",
           "save_anchor_set", "select_anchors"]

# The registry imports no torch (``--help`` lists its names); the rest loads on first use.
__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["AnchorSet", "anchor_positions_in", "choose_anchors", "load_anchor_set",
                     "positions_among", "save_anchor_set"], ".anchor_set"),
    **dict.fromkeys(["AnchorStrategy", "anchor_set_fingerprint", "register_strategy", "select_anchors"],
                    ".strategies"),
})
