"""A recipe (anchors, similarity, normalisation, top-k, head) and the grid of recipes a sweep tries."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import product

from stitchcli.relspace import RelativeTransform


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a relative head's inputs and architecture, apart from the encoders."""

    strategy: str
    num_anchors: int | None  # None: the default count, fixed once the train rows are known
    similarity: str
    center: bool
    normalize: str
    topk: int
    topk_power: float
    arch: str
    space: str = "relative"
    translate: str | None = None  # absolute heads only: the map fitted on the anchors, or None
    refine: int = 0  # self-learning rounds of that map with every train row of both encoders

    @property
    def transform(self) -> RelativeTransform:
        return RelativeTransform(self.normalize, self.topk, self.topk_power)

    @property
    def anchor_key(self) -> tuple[str, int]:
        return self.strategy, self.num_anchors

    @property
    def relative_key(self) -> tuple:
        return self.anchor_key, self.similarity, self.center

    def label(self) -> str:
        if self.space == "absolute":
            if self.translate:
                refined = f" + {self.refine} refinements" if self.refine else ""
                return (f"{self.num_anchors} {self.strategy} · absolute · {self.arch} · via "
                        f"{self.translate}{refined}")
            return f"absolute · {self.arch}"
        parts = [f"{self.num_anchors} {self.strategy}", self.similarity]
        if self.center:
            parts.append("center")
        parts.append(self.transform.describe())
        parts.append(self.arch)
        return " · ".join(parts)

    def as_json(self) -> dict:
        return asdict(self)


def expand_grid(strategies: list[str], num_anchors: list[int | None], similarities: list[str],
                centers: list[bool], normalizations: list[str], topks: list[int],
                powers: list[float], archs: list[str], baseline: bool,
                translations: list[str] | None = None, refinements: list[int] | None = None
                ) -> list[Recipe]:
    """Every combination, in the order given (the last axis varies fastest); ``topk`` 0 ignores the
    power axis. With ``baseline``, one absolute-space recipe per architecture comes first; each of
    ``translations`` adds an absolute head per architecture and anchor set, read through that map
    (refined as often as each of ``refinements`` says)."""
    recipes: list[Recipe] = []
    if baseline:
        recipes += [Recipe("-", 0, "-", False, "none", 0, 1.0, arch, "absolute")
                    for arch in archs]
    for method, strategy, k, rounds, arch in product(translations or [], strategies, num_anchors,
                                                     refinements or [0], archs):
        recipes.append(Recipe(strategy, k, "-", False, "none", 0, 1.0, arch, "absolute", method, rounds))
    for strategy, k, similarity, center, normalize, topk, power, arch in product(
            strategies, num_anchors, similarities, centers, normalizations, topks, powers, archs):
        recipe = Recipe(strategy, k, similarity, center, normalize, topk, power if topk else 1.0, arch)
        if recipe not in recipes:
            recipes.append(recipe)
    return recipes
