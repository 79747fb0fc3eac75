"""Runs a sweep: relative vectors recomputed from stored embeddings, one head per encoder and recipe,
every head on every encoder's held-out rows (directly, or translated into the head's space through
the anchors); accuracy, kept ratio and the share of the target encoder's probe for each ordered pair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from stitchcli import defaults, events
from stitchcli.errors import StitchError
from stitchcli.heads.head import HeadConfig
from stitchcli.heads.logistic import probe_accuracy
from stitchcli.heads.metrics import accuracy
from stitchcli.heads.training import TrainRequest, check_options, fit_module
from stitchcli.jobs.sweep.data import SweepData, load_sweep_data
from stitchcli.jobs.sweep.grid import Recipe
from stitchcli.relspace import relative_projection
from stitchcli.translate.maps import fit_translation
from stitchcli.translate.refine import fit_refined

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
    seeds: int = 1  # repeats with seeds seed, seed + 1, …: other anchor draws and validation splits


@dataclass
class PairResult:
    head_encoder: str
    encoder: str
    accuracy: float | None  # None: the head cannot read that encoder (absolute, other width)
    own_accuracy: float  # the same head on its own encoder
    native_accuracy: float  # a head of the same recipe trained on the other encoder, on it
    probe_accuracy: float | None = None  # a logistic probe trained on the other encoder's own rows

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

    @property
    def of_probe(self) -> float | None:
        """Stitched accuracy over a logistic probe trained on the other encoder's own train rows:
        how much of what that encoder can do the stitched head delivers (the yardstick)."""
        if self.accuracy is None or not self.probe_accuracy:
            return None
        return self.accuracy / self.probe_accuracy

    def as_json(self) -> dict:
        return {"head_encoder": self.head_encoder, "encoder": self.encoder,
                "accuracy": _round(self.accuracy), "own_accuracy": _round(self.own_accuracy),
                "native_accuracy": _round(self.native_accuracy), "kept": _round(self.kept),
                "of_native": _round(self.of_native), "probe_accuracy": _round(self.probe_accuracy),
                "of_probe": _round(self.of_probe)}


@dataclass
class RecipeResult:
    recipe: Recipe
    own: dict[str, float]
    pairs: list[PairResult]
    probe: dict[str, float] = field(default_factory=dict)  # each encoder's logistic probe
    seeds: int = 1
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)  # 95%, across seeds

    def _values(self, name: str) -> list[float]:
        values = [getattr(p, name) for p in self.pairs]
        return [v for v in values if v is not None]

    def _mean(self, name: str) -> float | None:
        values = self._values(name)
        return sum(values) / len(values) if values else None

    def _min(self, name: str) -> float | None:
        values = self._values(name)
        return min(values) if values else None

    mean_accuracy = property(lambda self: self._mean("accuracy"))
    mean_kept = property(lambda self: self._mean("kept"))
    min_kept = property(lambda self: self._min("kept"))
    min_of_native = property(lambda self: self._min("of_native"))
    mean_of_probe = property(lambda self: self._mean("of_probe"))
    min_of_probe = property(lambda self: self._min("of_probe"))

    @property
    def own_of_probe(self) -> dict[str, float]:
        """Each head at home over its own encoder's probe (a head weaker than a probe shows here)."""
        return {k: v / self.probe[k] for k, v in self.own.items() if self.probe.get(k)}

    @property
    def min_own_of_probe(self) -> float | None:
        values = list(self.own_of_probe.values())
        return min(values) if values else None

    def as_json(self) -> dict:
        return {"recipe": self.recipe.as_json(), "label": self.recipe.label(),
                "own_accuracy": {k: _round(v) for k, v in self.own.items()},
                "probe_accuracy": {k: _round(v) for k, v in self.probe.items()},
                "own_of_probe": {k: _round(v) for k, v in self.own_of_probe.items()},
                "pairs": [p.as_json() for p in self.pairs],
                "mean_accuracy": _round(self.mean_accuracy), "mean_kept": _round(self.mean_kept),
                "min_kept": _round(self.min_kept), "min_of_native": _round(self.min_of_native),
                "mean_of_probe": _round(self.mean_of_probe), "min_of_probe": _round(self.min_of_probe),
                "min_own_of_probe": _round(self.min_own_of_probe), "seeds": self.seeds,
                "intervals": {k: [_round(lo), _round(hi)] for k, (lo, hi) in self.intervals.items()}}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _predict(module, features: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([module(chunk).argmax(dim=1) for chunk in features.split(PREDICT_CHUNK)])


class _Cache:
    """Anchors, relative vectors and head inputs, each computed once and shared by the recipes."""

    def __init__(self, data: SweepData, request: SweepRequest, seed: int) -> None:
        self.data, self.request, self.seed = data, request, seed
        self.anchors: dict = {}
        self.relative: dict = {}
        self.inputs: dict = {}
        self.probes: dict[int, float] = {}
        self.modules: dict = {}

    def probe(self, encoder: int) -> float:
        """Held-out accuracy of a logistic probe on the encoder's own absolute train rows."""
        if encoder not in self.probes:
            space = self.data.spaces[encoder]
            self.probes[encoder] = probe_accuracy(space.train, self.data.train_labels, space.held_out,
                                                  self.data.held_out_labels, self.seed)
        return self.probes[encoder]

    def anchor_positions(self, recipe: Recipe) -> torch.Tensor:
        if recipe.anchor_key not in self.anchors:
            self.anchors[recipe.anchor_key] = self.data.anchor_positions(
                recipe.strategy, recipe.num_anchors, self.seed)
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
                           options.seed + cache.seed - cache.request.seed)
    inputs = [cache.features(recipe, e) for e in range(len(data.spaces))]
    matrix = []
    for h, (train, _) in enumerate(inputs):
        config = HeadConfig(recipe.arch, train.shape[1], len(data.label_names), options.hidden,
                            options.activation)
        key = ((recipe.space, recipe.arch) if recipe.space == "absolute"
               else (recipe.relative_key, recipe.transform, recipe.arch), h)
        if key not in cache.modules:  # translated recipes share their absolute heads
            with events.quietly():  # no bar per head
                cache.modules[key] = fit_module(config, train, data.train_labels, request)
        module = cache.modules[key]
        matrix.append([accuracy(_predict(module, _read_by(cache, recipe, h, e, held_out)),
                                data.held_out_labels)
                       if recipe.translate or held_out.shape[1] == train.shape[1] else None
                       for e, (_, held_out) in enumerate(inputs)])
    probe = {space.spec: cache.probe(e) for e, space in enumerate(data.spaces)}
    own = {space.spec: matrix[h][h] for h, space in enumerate(data.spaces)}
    pairs = [PairResult(data.spaces[h].spec, data.spaces[e].spec, matrix[h][e], matrix[h][h], matrix[e][e],
                        probe[data.spaces[e].spec])
             for h in range(len(inputs)) for e in range(len(inputs)) if e != h]
    return RecipeResult(recipe, own, pairs, probe)


def _read_by(cache: _Cache, recipe: Recipe, head: int, encoder: int, held_out: torch.Tensor) -> torch.Tensor:
    """Encoder ``encoder``'s held-out inputs as the head of ``head`` reads them: as they are, or
    translated into the head's space by a map fitted on the anchors' two embeddings."""
    if not recipe.translate or head == encoder:
        return held_out
    positions = cache.anchor_positions(recipe)
    source, target = cache.data.spaces[encoder].train, cache.data.spaces[head].train
    if recipe.refine:
        translate = fit_refined(recipe.translate, source[positions], target[positions], source, target,
                                recipe.refine, cache.seed)
    else:
        translate = fit_translation(recipe.translate, source[positions].float(), target[positions].float())
    return translate(held_out)


def check_request(request: SweepRequest) -> None:
    """Refuse a request that cannot run, before any file is read."""
    check_options(request.training)
    if not request.recipes:
        raise StitchError("the grid holds no recipe")
    if request.seeds < 1:
        raise StitchError(f"--seeds must be at least 1, got {request.seeds}")
    for recipe in request.recipes:
        recipe.transform.check()
        if recipe.refine < 0:
            raise StitchError(f"--refine must be 0 (no refinement) or a positive number of rounds, "
                              f"got {recipe.refine}")
        if (recipe.space == "relative" or recipe.translate) and recipe.num_anchors is not None \
                and recipe.num_anchors < 1:
            raise StitchError(f"--num-anchors must be positive, got {recipe.num_anchors}")


def sweep_once(request: SweepRequest, seed: int, on_recipe: Callable[[RecipeResult], None] | None = None
               ) -> tuple[SweepData, list[RecipeResult]]:
    """Every recipe of the request under one seed (anchor draw, validation split, head seed)."""
    data = load_sweep_data(request.train, request.test, request.anchors, request.validation, seed)
    default_count = min(defaults.NUM_ANCHORS, len(data.train_labels))
    recipes = [replace(r, num_anchors=default_count)
               if r.num_anchors is None and (r.space == "relative" or r.translate) else r
               for r in request.recipes]
    cache = _Cache(data, request, seed)
    results = []
    for recipe in recipes:
        result = run_recipe(cache, recipe)
        results.append(result)
        if on_recipe:
            on_recipe(result)
    return data, results
