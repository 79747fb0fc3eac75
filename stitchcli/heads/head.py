"""Heads: architectures as a registry, for classes or values (tasks), saved as safetensors weights plus
metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from stitchcli import defaults
from stitchcli.errors import StitchError
from stitchcli.heads.registry import ACTIVATIONS, ARCHITECTURES, register_architecture  # noqa: F401
from stitchcli.heads.scaled import TargetScaled  # noqa: F401 - re-exported
from stitchcli.metadata import HeadMeta
from stitchcli.relspace.transform import RelativeTransform
from stitchcli.storage import store


@dataclass
class HeadConfig:
    """The shape of a head; enough to rebuild it before loading its weights."""

    arch: str
    in_dim: int
    num_classes: int
    hidden: int = defaults.HIDDEN
    activation: str = defaults.ACTIVATION
    task: str = "classification"  # num_classes is the number of outputs of other tasks


def _linear(config: HeadConfig) -> nn.Module:
    # Every head first normalises each input vector on its own: similarities from different
    # encoders differ in spread (one encoder's cosines sit near 0.5, another's near 0.1), and
    # per-sample normalisation removes that before the weights see it, as in the paper's decoders.
    return nn.Sequential(
        nn.LayerNorm(config.in_dim, elementwise_affine=False),
        nn.Linear(config.in_dim, config.num_classes),
    )


def _mlp(config: HeadConfig) -> nn.Module:
    # The paper's relative decoder: LayerNorm -> Linear -> activation -> normalisation across
    # the batch -> Linear.
    return nn.Sequential(
        nn.LayerNorm(config.in_dim),
        nn.Linear(config.in_dim, config.hidden),
        get_activation(config.activation)(),
        nn.BatchNorm1d(config.hidden),
        nn.Linear(config.hidden, config.num_classes),
    )


class PrototypeHead(nn.Module):
    """Training-free: one prototype per class (the mean of its unit-normalised inputs), and each
    sample goes to the prototype of highest cosine. Fitted in closed form by ``fit``."""

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.register_buffer("prototypes", torch.zeros(config.num_classes, config.in_dim))

    @torch.no_grad()
    def fit_blocks(self, blocks) -> None:
        """Fitted from (features, labels) blocks: any number of rows, one block in memory."""
        sums = torch.zeros_like(self.prototypes)
        for features, labels in blocks:
            sums.index_add_(0, labels, F.normalize(features.float(), dim=1, eps=1e-12))
        self.prototypes.copy_(F.normalize(sums, dim=1, eps=1e-12))

    def fit(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        self.fit_blocks([(features, labels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x.float(), dim=1, eps=1e-12) @ self.prototypes.T


def _prototype(config: HeadConfig) -> nn.Module:
    return PrototypeHead(config)


def _logistic(config: HeadConfig) -> nn.Module:
    from stitchcli.heads.logistic import LogisticHead

    return LogisticHead(config)


def _ridge(config: HeadConfig) -> nn.Module:
    from stitchcli.heads.ridge import RidgeHead

    return RidgeHead(config)


def get_activation(name: str) -> Callable[[], nn.Module]:
    return ACTIVATIONS.get(name)


def build_head(config: HeadConfig) -> nn.Module:
    build = ARCHITECTURES.get(config.arch)
    get_activation(config.activation)
    from stitchcli.heads.tasks import get_task

    task = get_task(config.task)
    task.check_arch(config.arch)
    module = build(config)
    return task.wrap(module, config.num_classes)


@dataclass
class Head:
    """A trained head: its module and its typed metadata (``HeadMeta``: shape, space, encoder, labels,
    anchors, map), with the anchor embeddings and the anchor set it carries."""

    path: Path
    meta: HeadMeta
    module: nn.Module
    anchor_embeddings: torch.Tensor | None = None
    # The anchor set it carries (``anchors.<name>`` tensors; its metadata in ``meta.anchor_set``), if any.
    anchor_tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    # A seeded sample of its own encoder's train rows, to refine its map with (``heads.pool``), if any.
    pool_embeddings: torch.Tensor | None = None
    warned: set[str] = field(default_factory=set, repr=False, compare=False)  # warnings given once

    @property
    def config(self) -> HeadConfig:
        return config_of(self.meta)

    @property
    def space(self) -> str:
        return self.meta.space

    @property
    def encoder(self) -> str:
        return self.meta.encoder

    @property
    def label_names(self) -> list[str]:
        return self.meta.label_names

    @property
    def transform(self) -> RelativeTransform:
        return RelativeTransform(self.meta.normalize, self.meta.topk, self.meta.topk_power)

    @property
    def task(self):  # noqa: ANN201 - a heads.tasks.Task
        """What the head predicts (a ``Task`` of the registry)."""
        from stitchcli.heads.tasks import get_task

        return get_task(self.meta.task)

    def translation(self, override: str | None = None) -> str | None:
        """The map this head reads other encoders' embeddings through: ``override`` if given (``"none"``:
        no map, as on the command line), else the one its file records; None for no map. Relative
        heads read relative vectors as they are, so they never translate."""
        method = self.meta.translate if override is None else override
        return None if self.space != "absolute" or method in (None, "none") else method

    def refinement(self, override: int | None = None) -> int:
        """The most self-learning rounds this head's map is refined by on another encoder's file:
        ``override`` if given (``0``: off), else what its file records; 0 for heads that never translate."""
        rounds = override if override is not None else \
            self.meta.refine if self.meta.refine is not None else defaults.REFINE_ROUNDS
        if rounds < 0:
            raise StitchError(f"refinement rounds must be 0 (off) or more, got {rounds}")
        return rounds if self.space == "absolute" else 0

    def targets(self):
        """What a regression or reconstruction head outputs (a ``TargetSpec``); None for classifiers."""
        return self.task.target_spec(self.meta)

    def anchor_set(self):
        """The anchor set this head carries (an ``AnchorSet``), or None for heads made without one."""
        from stitchcli.anchors.carried import carried_anchor_set

        return carried_anchor_set(self.anchor_tensors, self.meta, str(self.path))


def config_of(meta: HeadMeta) -> HeadConfig:
    """The shape of the head ``meta`` describes: what its module is built from."""
    return HeadConfig(meta.arch, meta.in_dim, meta.num_classes, meta.hidden, meta.activation, meta.task)


def save_head(path: Path, head: Head) -> None:
    """Write ``head`` to ``path``; a head with NaN or infinite weights is refused (nothing written)."""
    tensors = {f"weights.{k}": v for k, v in head.module.state_dict().items()}
    if head.anchor_embeddings is not None:
        tensors["anchor_embeddings"] = head.anchor_embeddings
    if head.pool_embeddings is not None:
        tensors["pool_embeddings"] = head.pool_embeddings
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise StitchError(f"training gave the head NaN or infinite values ({name}); nothing written",
                              hint="the targets or embeddings hold huge values, or training diverged: "
                              "rescale them, or lower --lr.")
    tensors |= head.anchor_tensors
    store.save(path, "head", tensors, head.meta.to_metadata())


def _check_meta(path: Path, meta: HeadMeta) -> None:
    """What the metadata promises, checked before any module is built from it."""
    from stitchcli.heads.tasks import TASKS

    if meta.task not in TASKS:
        raise StitchError(f"head file {path}: unknown task {meta.task!r}")
    TASKS[meta.task].check_head(path, meta)
    RelativeTransform(meta.normalize, meta.topk, meta.topk_power).check()


def _check_anchor_embeddings(path: Path, meta: HeadMeta, anchors: torch.Tensor | None) -> None:
    """The anchor embeddings a head holds are one row per anchor of its set, as wide as its encoder."""
    if anchors is None:
        return
    rows = meta.relative.num_anchors if meta.relative is not None else None
    if anchors.dim() != 2 or (rows is not None and anchors.shape[0] != rows) or \
            (meta.dim is not None and anchors.shape[1] != meta.dim):
        raise StitchError(f"head file {path}: its anchor_embeddings are {tuple(anchors.shape)} but its "
                          f"metadata says {rows} anchors (metadata 'num_anchors') of width {meta.dim} "
                          "(metadata 'dim')",
                          hint="the file is damaged or was edited; train the head again.")


def _check_pool(path: Path, meta: HeadMeta, pool: torch.Tensor | None) -> None:
    """The pool a head carries is ``pool_rows`` rows as wide as its encoder (and none without the key)."""
    shape = None if pool is None else tuple(pool.shape)
    wide = shape is not None and len(shape) == 2 and (meta.dim is None or shape[1] == meta.dim)
    if (shape or meta.pool_rows) and not (wide and shape[0] == meta.pool_rows):
        raise StitchError(f"head file {path}: its pool_embeddings are {shape} but its metadata says "
                          f"{meta.pool_rows} rows (metadata 'pool_rows') of width {meta.dim} "
                          "(metadata 'dim')",
                          hint="the file is damaged or was edited; train the head again.")


def load_head(path: Path) -> Head:
    file = store.load(path, kind="head")
    meta = HeadMeta.from_metadata(file.metadata, str(path))
    _check_meta(path, meta)
    config = config_of(meta)
    weights = {k.removeprefix("weights."): v for k, v in file.tensors.items()
               if k.startswith("weights.")}
    # The metadata is checked against the tensors before anything is built: a module sized by the
    # metadata alone (hidden = 2e7) would allocate gigabytes for a file of kilobytes.
    with torch.device("meta"):
        shapes = {name: tuple(t.shape) for name, t in build_head(config).state_dict().items()}
    given = {name: tuple(t.shape) for name, t in weights.items()}
    if shapes != given:
        wrong = sorted(set(shapes) ^ set(given)) or sorted(n for n in shapes if shapes[n] != given[n])
        raise StitchError(f"head file {path}: its metadata (arch {config.arch}, in_dim {config.in_dim}, "
                          f"num_classes {config.num_classes}, hidden {config.hidden}) does not match its "
                          f"weights ({wrong[0]}: {given.get(wrong[0])} in the file, {shapes.get(wrong[0])} "
                          "expected)", hint="the file is damaged or was edited; train the head again.")
    pool = file.tensors.get("pool_embeddings")
    for name, tensor in [*weights.items(), ("anchor_embeddings", file.tensors.get("anchor_embeddings")),
                         ("pool_embeddings", pool)]:
        if tensor is not None and tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise StitchError(f"head file {path}: tensor {name} holds NaN or infinite values",
                              hint="the file is damaged (or training diverged); train the head again.")
    _check_anchor_embeddings(path, meta, file.tensors.get("anchor_embeddings"))
    _check_pool(path, meta, pool)
    module = build_head(config)
    module.load_state_dict(weights, strict=True)
    module.eval()
    return Head(path=Path(path), meta=meta, module=module,
                anchor_embeddings=file.tensors.get("anchor_embeddings"),
                anchor_tensors={k: v for k, v in file.tensors.items() if k.startswith("anchors.")},
                pool_embeddings=pool)
