"""The anchor strategy registry, without torch: names for ``--help`` and checks; a strategy is imported
from ``strategies`` on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stitchcli.errors import UsageError
from stitchcli.registry import Registry

if TYPE_CHECKING:
    from stitchcli.anchors.strategies import AnchorStrategy

# An unknown name is a bad option value, like click's own choices: exit 2.
STRATEGIES: Registry[AnchorStrategy] = Registry(
    "anchor strategy", group="stitchcli.anchor_strategies", named_by="name", error=UsageError)
STRATEGIES.register("random", "stitchcli.anchors.strategies:RANDOM", help="uniform, seeded")
STRATEGIES.register("stratified", "stitchcli.anchors.strategies:STRATIFIED", help="round-robin over classes")
STRATEGIES.register("fps", "stitchcli.anchors.strategies:FPS",
                    help="farthest-point sampling; needs --embeddings")
STRATEGIES.register("kmeans", "stitchcli.anchors.strategies:KMEANS",
                    help="the sample nearest each k-means centroid; needs --embeddings")
STRATEGIES.register("aligned", "stitchcli.anchors.strategies:ALIGNED",
                    help="similarity profiles that agree most across encoders; needs --embeddings of two "
                    "or more")


def get_strategy(name: str) -> AnchorStrategy:
    return STRATEGIES.get(name)
