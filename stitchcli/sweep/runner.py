"""Runs a sweep: relative vectors recomputed from stored embeddings, one head per encoder and recipe,
every head on every encoder's held-out rows; accuracy and kept ratio for each ordered pair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from stitchcli.errors import StitchError
from stitchcli.heads import HeadConfig
from stitchcli.metrics import accuracy
from stitchcli.relspace import relative_projection
from stitchcli.sweep.data import SweepData, load_sweep_data
from stitchcli.sweep.grid import Recipe
from stitchcli.training import TrainRequest, check_options, fit_module

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
    own_accuracy: float

    @property
    def kept(self) -> float | None:
        if self.accuracy is None or self.own_accuracy <= 0:
            return None
        return self.accuracy / self.own_accuracy

    def as_json(self) -> dict:
        return {"head_encoder": self.head_encoder, "encoder": self.encoder,
                "accuracy": _round(self.accuracy), "own_accuracy": _round(self.own_accuracy),
                "kept": _round(self.kept)}


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

    def as_json(self) -> dict:
        return {"recipe": self.recipe.as_json(), "label": self.recipe.label(),
                "own_accuracy": {k: _round(v) for k, v in self.own.items()},
                "pairs": [p.as_json() for p in self.pairs],
                "mean_accuracy": _round(self.mean_accuracy), "mean_kept": _round(self.mean_kept),
                "min_kept": _round(self.min_kept)}


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
    own: dict[str, float] = {}
    pairs: list[PairResult] = []
    for h, head_space in enumerate(data.spaces):
        train, _ = inputs[h]
        config = HeadConfig(recipe.arch, train.shape[1], len(data.label_names), options.hidden,
                            options.activation)
        module = fit_module(config, train, data.train_labels, request)
        accuracies = []
        for _, held_out in inputs:
            fits = held_out.shape[1] == train.shape[1]
            accuracies.append(accuracy(_predict(module, held_out), data.held_out_labels) if fits else None)
        own[head_space.spec] = accuracies[h]
        pairs += [PairResult(head_space.spec, data.spaces[e].spec, accuracies[e], accuracies[h])
                  for e in range(len(data.spaces)) if e != h]
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
    cache = _Cache(data, request)
    results = []
    for recipe in request.recipes:
        result = run_recipe(cache, recipe)
        results.append(result)
        if on_recipe:
            on_recipe(result)
    return data, results
