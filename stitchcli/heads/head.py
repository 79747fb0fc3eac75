"""Heads: architectures as a registry, for classes or values (tasks), saved as safetensors weights plus
metadata."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from stitchcli.errors import StitchError
from stitchcli.relspace.transform import RelativeTransform
from stitchcli.storage import store

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "silu": nn.SiLU, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU,
}


@dataclass
class HeadConfig:
    """The shape of a head; enough to rebuild it before loading its weights."""

    arch: str
    in_dim: int
    num_classes: int
    hidden: int = 768
    activation: str = "silu"
    task: str = "classification"  # num_classes is the number of outputs of other tasks


class TargetScaled(nn.Module):
    """A head that predicts values: ``inner`` is fitted to standardised targets and the output is put
    back on the targets' scale (``inner(x) · target_scale + target_mean``)."""

    def __init__(self, inner: nn.Module, outputs: int) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("target_mean", torch.zeros(outputs))
        self.register_buffer("target_scale", torch.ones(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.target_scale + self.target_mean


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


# A module with ``fit_inputs(blocks, labels, seed)`` (full-batch, any number of passes),
# ``fit_blocks(blocks of (features, labels))`` or ``fit(features, labels)`` is fitted by that method
# instead of trained by Adam.
ARCHITECTURES: dict[str, Callable[[HeadConfig], nn.Module]] = {
    "linear": _linear, "mlp": _mlp, "prototype": _prototype, "logistic": _logistic, "ridge": _ridge,
}


def register_architecture(name: str, build: Callable[[HeadConfig], nn.Module]) -> None:
    ARCHITECTURES[name] = build


def get_activation(name: str) -> Callable[[], nn.Module]:
    if name not in ACTIVATIONS:
        raise StitchError(f"unknown activation {name!r}", hint=f"choose one of {', '.join(ACTIVATIONS)}.")
    return ACTIVATIONS[name]


def build_head(config: HeadConfig) -> nn.Module:
    from stitchcli.plugins import load_group

    load_group("stitchcli.heads", register_architecture)
    if config.arch not in ARCHITECTURES:
        raise StitchError(
            f"unknown head architecture {config.arch!r}",
            hint=f"choose one of {', '.join(ARCHITECTURES)}.",
        )
    get_activation(config.activation)
    from stitchcli.heads.tasks import CLASSIFICATION, check_arch, get_task

    check_arch(get_task(config.task), config.arch)
    module = ARCHITECTURES[config.arch](config)
    return module if config.task == CLASSIFICATION else TargetScaled(module, config.num_classes)


@dataclass
class Head:
    """A trained head with what it was trained on (space, anchors, encoder, labels)."""

    path: Path
    config: HeadConfig
    module: nn.Module
    space: str
    encoder: str
    label_names: list[str]
    metadata: dict[str, str] = field(default_factory=dict)
    anchor_embeddings: torch.Tensor | None = None
    transform: RelativeTransform = field(default_factory=RelativeTransform)
    # The anchor set it carries (``anchors.<name>`` tensors; its metadata in ``anchor_set``), if any.
    anchor_tensors: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return getattr(self.config, "task", "classification")

    def targets(self):
        """What a regression or reconstruction head outputs (a ``TargetSpec``); None for classifiers."""
        from stitchcli.heads.targets import TargetSpec

        return None if self.task == "classification" else TargetSpec.from_metadata(self.task, self.metadata)

    def anchor_set(self):
        """The anchor set this head carries (an ``AnchorSet``), or None for heads made without one."""
        from stitchcli.anchors.carried import carried_anchor_set

        return carried_anchor_set(self.anchor_tensors, self.metadata, str(self.path))


def save_head(path: Path, head: Head) -> None:
    tensors = {f"weights.{k}": v for k, v in head.module.state_dict().items()}
    if head.anchor_embeddings is not None:
        tensors["anchor_embeddings"] = head.anchor_embeddings
    tensors |= head.anchor_tensors
    metadata = dict(head.metadata)
    metadata.update({
        "arch": head.config.arch,
        "task": head.config.task,
        "in_dim": str(head.config.in_dim),
        "num_classes": str(head.config.num_classes),
        # Only the mlp has a hidden layer: other heads do not record settings they never used.
        **({"hidden": str(head.config.hidden), "activation": head.config.activation}
           if head.config.arch == "mlp" else {}),
        "space": head.space,
        "encoder": head.encoder,
        "label_names": json.dumps(head.label_names),
        **head.transform.as_metadata(),
    })
    store.save(path, "head", tensors, metadata)


def _check_config(path: Path, config: HeadConfig, label_names) -> None:
    """Field by field, before any module is built from them."""
    if not isinstance(label_names, list) or not all(isinstance(n, str) for n in label_names):
        raise StitchError(f"head file {path}: label_names must be a JSON list of strings")
    for name in ("in_dim", "num_classes", "hidden"):
        if getattr(config, name) < 1:
            raise StitchError(f"head file {path}: {name} must be positive, got {getattr(config, name)}")
    from stitchcli.heads.tasks import TASKS

    if config.task not in TASKS:
        raise StitchError(f"head file {path}: unknown task {config.task!r}")
    if config.task != "classification":
        return
    if config.num_classes != len(label_names):
        raise StitchError(f"head file {path}: num_classes is {config.num_classes} but label_names lists "
                          f"{len(label_names)}")


def _check_targets(path: Path, config: HeadConfig, meta: dict[str, str]) -> None:
    """A value head's recorded targets must be readable and sized like its outputs."""
    from stitchcli.heads.targets import TargetSpec

    try:
        spec = TargetSpec.from_metadata(config.task, meta)
    except (KeyError, ValueError) as exc:
        raise StitchError(f"head file {path}: its {config.task} targets are not recorded ({exc})") from None
    if config.task == "regression":
        outputs = len(spec.names)
    elif spec.size and spec.size > 0 and spec.channels in (1, 3):
        outputs = spec.channels * spec.size * spec.size
    else:
        outputs = -1
    if outputs != config.num_classes:
        raise StitchError(f"head file {path}: it has {config.num_classes} outputs but its targets "
                          f"({config.task}) need {outputs}")


def load_head(path: Path) -> Head:
    file = store.load(path, kind="head")
    meta = file.metadata
    try:
        config = HeadConfig(
            arch=meta["arch"], in_dim=int(meta["in_dim"]), num_classes=int(meta["num_classes"]),
            hidden=int(meta.get("hidden", 768)), activation=meta.get("activation", "silu"),
            task=meta.get("task", "classification"),
        )
        label_names = json.loads(meta["label_names"])
        space, encoder = meta["space"], meta["encoder"]
        transform = RelativeTransform.from_metadata(meta)
    except (KeyError, ValueError) as exc:
        raise StitchError(f"head file {path} is missing metadata ({exc})") from None
    _check_config(path, config, label_names)
    if config.task != "classification":
        _check_targets(path, config, meta)
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
    for name, tensor in [*weights.items(), ("anchor_embeddings", file.tensors.get("anchor_embeddings"))]:
        if tensor is not None and tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise StitchError(f"head file {path}: tensor {name} holds NaN or infinite values",
                              hint="the file is damaged (or training diverged); train the head again.")
    module = build_head(config)
    module.load_state_dict(weights, strict=True)
    module.eval()
    return Head(path=Path(path), config=config, module=module, space=space, encoder=encoder,
                label_names=label_names, metadata=meta,
                anchor_embeddings=file.tensors.get("anchor_embeddings"), transform=transform,
                anchor_tensors={k: v for k, v in file.tensors.items() if k.startswith("anchors.")})
