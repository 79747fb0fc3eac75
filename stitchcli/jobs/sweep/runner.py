"""Runs a sweep: relative vectors recomputed from stored embeddings, one head per encoder and recipe,
every head on every encoder's held-out rows; accuracy and kept ratio for each ordered pair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from stitchcli import defaults
from stitchcli.errors import StitchError
from stitchcli.heads.head import HeadConfig
from stitchcli.heads.metrics import accuracy
from stitchcli.heads.training import TrainRequest, check_options, fit_module
from stitchcli.jobs.sweep.data import SweepData, load_sweep_data
from stitchcli.jobs.sweep.grid import Recipe
from stitchcli.relspace import relative_projection

PREDICT_CHUNK = 65_536


@dataclass
class SweepRequest:
    """Files, grid and training options of one sweep."""

    train: list[Path]
    test: list[Path]
    recipes: list[Recipe]
    anchors: Path | None = None
    validation: float | None = None
    seed: int = 0
    training: TrainRequest = field(default_factory=lambda: TrainRequest(Path()))


@dataclass
class PairResult:
    head_encoder: str
    encoder: str
    accuracy: float | None  # None: the head cannot read that encoder (absolute, other width)
    own_accuracy: float  # the same head on its own encoder
    native_accuracy: float  # a head of the same recipe trained on the other encoder, on it

    @property
    def kept(self) -> float | None:
        if self.accuracy is None or self.own_accuracy <= 0:
            return None
        return self.accuracy / self.own_accuracy

    @property
    def of_native(self) -> float | None:
        """Stitched accuracy over what that encoder reaches with its own head: a weaker encoder
        caps what any head can read from it, which the kept ratio alone charges to stitching."""
        if self.accuracy is None or self.native_accuracy <= 0:
            return None
        return self.accuracy / self.native_accuracy

    def as_json(self) -> dict:
        return {"head_encoder": self.head_encoder, "encoder": self.encoder,
                "accuracy": _round(self.accuracy), "own_accuracy": _round(self.own_accuracy),
                "native_accuracy": _round(self.native_accuracy), "kept": _round(self.kept),
                "of_native": _round(self.of_native)}


@dataclass
class RecipeResult:
    recipe: Recipe
    own: dict[str, float]
    pairs: list[PairResult]

    def _values(self, name: str) -> list[float]:
        values = [getattr(p, name) for p in self.pairs]
        return [v for v in values if v is not None]

    @property
    def mean_accuracy(self) -> float | None:
        values = self._values("accuracy")
        return sum(values) / len(values) if values else None

    @property
    def mean_kept(self) -> float | None:
        values = self._values("kept")
        return sum(values) / len(values) if values else None

    @property
    def min_kept(self) -> float | None:
        values = self._values("kept")
        return min(values) if values else None

    @property
    def min_of_native(self) -> float | None:
        values = self._values("of_native")
        return min(values) if values else None

    def as_json(self) -> dict:
        return {"recipe": self.recipe.as_json(), "label": self.recipe.label(),
                "own_accuracy": {k: _round(v) for k, v in self.own.items()},
                "pairs": [p.as_json() for p in self.pairs],
                "mean_accuracy": _round(self.mean_accuracy), "mean_kept": _round(self.mean_kept),
                "min_kept": _round(self.min_kept), "min_of_native": _round(self.min_of_native)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _predict(module, features: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([module(chunk).argmax(dim=1) for chunk in features.split(PREDICT_CHUNK)])


class _Cache:
    """Anchors, relative vectors and head inputs, each computed once and shared by the recipes."""

    def __init__(self, data: SweepData, request: SweepRequest) -> None:
        self.data, self.request = data, request
        self.anchors: dict = {}
        self.relative: dict = {}
        self.inputs: dict = {}

    def anchor_positions(self, recipe: Recipe) -> torch.Tensor:
        if recipe.anchor_key not in self.anchors:
            self.anchors[recipe.anchor_key] = self.data.anchor_positions(
                recipe.strategy, recipe.num_anchors, self.request.seed)
        return self.anchors[recipe.anchor_key]

    def raw(self, recipe: Recipe, encoder: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Train and held-out relative vectors, and the anchors' own ones [K, K]."""
        key = (recipe.relative_key, encoder)
        if key not in self.relative:
            space = self.data.spaces[encoder]
            anchors = space.train[self.anchor_positions(recipe)]
            self.relative[key] = tuple(relative_projection(x, anchors, recipe.similarity, recipe.center)
                                       for x in (space.train, space.held_out, anchors))
        return self.relative[key]

    def features(self, recipe: Recipe, encoder: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Train and held-out inputs of a head of ``recipe`` on ``encoder``."""
        if recipe.space == "absolute":
            space = self.data.spaces[encoder]
            return space.train.float(), space.held_out.float()
        key = (recipe.relative_key, recipe.transform, encoder)
        if key not in self.inputs:
            train, held_out, self_relative = self.raw(recipe, encoder)
            apply = recipe.transform.apply
            self.inputs[key] = (apply(train, self_relative), apply(held_out, self_relative))
        return self.inputs[key]


def run_recipe(cache: _Cache, recipe: Recipe) -> RecipeResult:
    data, options = cache.data, cache.request.training
    request = TrainRequest(Path(), recipe.space, recipe.arch, options.hidden, options.activation,
                           options.epochs, options.lr, options.batch_size, options.weight_decay,
                           options.seed, quiet=True)
    inputs = [cache.features(recipe, e) for e in range(len(data.spaces))]
    matrix = []
    for train, _ in inputs:
        config = HeadConfig(recipe.arch, train.shape[1], len(data.label_names), options.hidden,
                            options.activation)
        module = fit_module(config, train, data.train_labels, request)
        matrix.append([accuracy(_predict(module, held_out), data.held_out_labels)
                       if held_out.shape[1] == train.shape[1] else None for _, held_out in inputs])
    own = {space.spec: matrix[h][h] for h, space in enumerate(data.spaces)}
    pairs = [PairResult(data.spaces[h].spec, data.spaces[e].spec, matrix[h][e], matrix[h][h], matrix[e][e])
             for h in range(len(inputs)) for e in range(len(inputs)) if e != h]
    return RecipeResult(recipe, own, pairs)


def run_sweep(request: SweepRequest, on_recipe: Callable[[RecipeResult], None] | None = None
              ) -> tuple[SweepData, list[RecipeResult]]:
    """Every recipe of the request; ``on_recipe`` hears of each result as it is done."""
    check_options(request.training)
    if not request.recipes:
        raise StitchError("the grid holds no recipe")
    for recipe in request.recipes:
        recipe.transform.check()
    data = load_sweep_data(request.train, request.test, request.anchors, request.validation,
                           request.seed)
    default_count = min(defaults.NUM_ANCHORS, len(data.train_labels))
    recipes = [replace(r, num_anchors=default_count) if r.num_anchors is None and r.space == "relative"
               else r for r in request.recipes]
    cache = _Cache(data, request)
    results = []
    for recipe in recipes:
        result = run_recipe(cache, recipe)
        results.append(result)
        if on_recipe:
            on_recipe(result)
    return data, results
