"""Training a head on one embeddings file: seeded, deterministic on CPU, with a loss bar."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from stitchcli import defaults, events
from stitchcli.errors import StitchError
from stitchcli.heads.head import Head, HeadConfig, PrototypeHead, TargetScaled, build_head
from stitchcli.heads.inputs import TRAIN_IN_MEMORY_BYTES, FileInputs, TensorInputs
from stitchcli.heads.tasks import get_task
from stitchcli.metadata import EmbeddingsMeta, HeadMeta
from stitchcli.metadata.head import SCORE_DIGITS
from stitchcli.relspace import RelativeTransform
from stitchcli.storage.rows import open_rows


def _default_transform() -> RelativeTransform:
    return RelativeTransform(defaults.NORMALIZE, defaults.TOPK, defaults.TOPK_POWER)


@dataclass
class TrainRequest:
    """A head to train; every default is `stitch train-head`'s (``stitchcli.defaults``)."""

    embeddings: Path
    space: str = defaults.SPACE
    arch: str | None = None  # None: the task's default (logistic for classes, ridge for values)
    hidden: int = defaults.HIDDEN
    activation: str = defaults.ACTIVATION
    epochs: int = defaults.EPOCHS
    lr: float = defaults.LR
    batch_size: int = defaults.BATCH_SIZE
    weight_decay: float = 0.0
    seed: int = 0
    transform: RelativeTransform = field(default_factory=_default_transform)  # relative heads only
    # How an absolute head reads other encoders: None is the default (ridge for absolute heads, as
    # `train-head`); "none" a plain head that cannot read them; or ridge, procrustes, affine, auto.
    translate: str | None = None
    # Translated heads: the most refinement rounds their map gets on other encoders' files (0: off), and
    # how many of this file's rows they carry for it (``pool_embeddings``; 0: none, a smaller file).
    refine: int = defaults.REFINE_ROUNDS
    pool_rows: int = defaults.POOL_ROWS
    anchors: Path | None = None  # the anchor set to carry (default: the one the file was embedded with)
    task: str = "classification"  # or regression (target_columns) or reconstruction (target_size)
    target_columns: list[str] = field(default_factory=list)
    target_size: int = defaults.TARGET_SIZE


def check_options(request: TrainRequest) -> None:
    """Refuse bad numbers before any file is read."""
    for name in ("epochs", "batch_size", "hidden"):
        if getattr(request, name) <= 0:
            raise StitchError(f"--{name.replace('_', '-')} must be positive, got {getattr(request, name)}")
    if not (math.isfinite(request.lr) and request.lr > 0):
        raise StitchError(f"--lr must be a positive finite number, got {request.lr}")
    if not -(2**63) <= request.seed < 2**64:  # what a torch generator takes
        raise StitchError(f"--seed must fit in 64 bits, got {request.seed}")
    if not (math.isfinite(request.weight_decay) and request.weight_decay >= 0):
        raise StitchError(f"--weight-decay must be 0 or a positive finite number, got {request.weight_decay}")
    for name in ("refine", "pool_rows"):
        if getattr(request, name) < 0:
            raise StitchError(f"--{name.replace('_', '-')} must be 0 (off) or more, "
                              f"got {getattr(request, name)}")
    request.transform.check()
    task = get_task(request.task)
    task.check_arch(architecture(request))
    task.check_targets(request.target_columns, request.target_size)
    if request.translate not in (None, "none"):
        from stitchcli.translate import translation_methods

        translation_methods([request.translate])
        if request.space != "absolute":
            raise StitchError("--translate makes an absolute head (it maps other encoders' embeddings "
                              "into this one's space)", hint="leave out --space relative.")


def architecture(request: TrainRequest) -> str:
    """The head's architecture: the one asked for, else the task's default."""
    from stitchcli.heads.tasks import get_task

    return request.arch or get_task(request.task).default_arch


def translation_of(request: TrainRequest) -> str | None:
    """The map the head records: the default for its space unless the request names one."""
    if request.translate is None:
        return defaults.TRANSLATE if request.space == "absolute" else None
    return None if request.translate == "none" else request.translate


def trained_by_adam(module: nn.Module) -> bool:
    """Whether ``fit_module`` trains this module by Adam (it has no closed-form fit of its own)."""
    return not any(hasattr(module, name) for name in ("fit_inputs", "fit_blocks", "fit"))


def fit_module(config: HeadConfig, inputs, labels: torch.Tensor, request: TrainRequest) -> nn.Module:
    """A head module fitted to ``inputs`` (``FileInputs``, ``TensorInputs`` or a tensor) and ``labels``:
    in closed form if it has ``fit_blocks`` (a block at a time) or ``fit`` (all rows at once), else
    by Adam on shuffled batches: from memory for inputs up to ``TRAIN_IN_MEMORY_BYTES``, read from
    disk batch by batch beyond (the same values either way)."""
    if isinstance(inputs, torch.Tensor):
        inputs = TensorInputs(inputs)
    torch.manual_seed(request.seed)
    module = build_head(config)
    if isinstance(module, TargetScaled):  # values: the inner module learns standardised targets
        mean, scale = target_statistics(labels, config.task)
        module.target_mean.copy_(mean)
        module.target_scale.copy_(scale)
        _fit(module.inner, inputs, (labels.float() - mean) / scale, request, get_task(config.task).loss())
        return module.eval()
    return _fit(module, inputs, labels, request, get_task(config.task).loss())


def target_statistics(targets: torch.Tensor, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Each output's mean, and its spread: per output for regression, one spread over every output
    for reconstruction (no pixel weighs more than another). A constant output keeps spread 1."""
    from stitchcli.heads.tasks import get_task

    targets = targets.double()
    mean = targets.mean(dim=0)
    if get_task(task).standardise == "global":
        spread = (targets - mean).pow(2).mean().sqrt().expand_as(mean).clone()
    else:
        spread = targets.std(dim=0, unbiased=False)
    spread[spread <= 1e-8] = 1.0
    return mean.float(), spread.float()


def _fit(module: nn.Module, inputs, labels: torch.Tensor, request: TrainRequest, loss_fn) -> nn.Module:
    """``module`` fitted to ``labels`` (class ids, or standardised targets): see ``fit_module``."""
    if hasattr(module, "fit_inputs"):
        if isinstance(inputs, FileInputs) and inputs.num_rows * inputs.dim * 4 <= TRAIN_IN_MEMORY_BYTES:
            inputs = TensorInputs(inputs.all())  # read once: every L-BFGS step visits every row
        module.fit_inputs(inputs.blocks, labels, request.seed)
        return module.eval()
    if hasattr(module, "fit_blocks"):
        module.fit_blocks((block, labels[start : start + len(block)]) for start, block in inputs.blocks())
        return module.eval()
    if hasattr(module, "fit"):
        module.fit(inputs.all(), labels)
        return module.eval()
    if isinstance(inputs, FileInputs) and inputs.num_rows * inputs.dim * 4 <= TRAIN_IN_MEMORY_BYTES:
        inputs = TensorInputs(inputs.all())  # read once: every epoch visits every row
    optimiser = torch.optim.Adam(module.parameters(), lr=request.lr,
                                 weight_decay=request.weight_decay)
    generator = torch.Generator().manual_seed(request.seed)
    n = len(labels)
    steps = -(-n // request.batch_size)
    module.train()
    with events.progress("training", request.epochs * steps) as bar:
        for epoch in range(request.epochs):
            order = torch.randperm(n, generator=generator)
            running = 0.0
            for step in range(steps):
                batch = order[step * request.batch_size : (step + 1) * request.batch_size]
                if len(batch) < 2 and n > 1:  # batch norm cannot train on a single sample
                    bar.advance()
                    continue
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(module(inputs.take(batch)), labels[batch])
                loss.backward()
                optimiser.step()
                running += loss.item()
                bar.advance(1, f"epoch {epoch + 1}/{request.epochs} loss {running / (step + 1):.4f}")
    return module.eval()


def train_head(request: TrainRequest, rows=None) -> Head:
    """A head trained on ``request.embeddings``, or on ``rows`` (a ``MemoryRows``: the Python API's
    vectors) read the same way."""
    check_options(request)
    transform = request.transform if request.space == "relative" else RelativeTransform()
    file = open_rows(request.embeddings) if rows is None else rows
    inputs = FileInputs(file, request.space, transform)
    task = get_task(request.task)
    spec, labels, label_names = task.training_targets(file, request.target_columns, request.target_size)
    outputs = len(label_names) if task.classifies else labels.shape[1]
    if request.space == "relative" and transform.topk > inputs.dim:
        # Keeping more values than there are anchors keeps them all: the head records what it does.
        events.log(f"--topk {transform.topk} is more than the file's {inputs.dim} anchors: keeping all "
                   f"{inputs.dim} (--topk {inputs.dim})")
        transform = replace(transform, topk=inputs.dim)
        inputs = FileInputs(file, request.space, transform)
    config = HeadConfig(architecture(request), inputs.dim, outputs, request.hidden, request.activation,
                        request.task)
    module = fit_module(config, inputs, labels, request)
    temperature = fit_temperature(module, inputs, labels) if isinstance(module, PrototypeHead) else None
    source = EmbeddingsMeta.of(file)
    anchor_embeddings = file.read("anchor_embeddings") if file.has("anchor_embeddings") else None
    translate = translation_of(request)
    if translate is not None and (anchor_embeddings is None or source.relative is None):
        raise StitchError(f"{file.path} holds no anchor embeddings for a translated head to carry",
                          hint="embed it with --anchors ANCHORS.safetensors (or give --translate none "
                          "for an absolute head that cannot read other encoders).")
    if translate is not None:  # the map is fitted when the head reads another encoder: refuse it now
        from stitchcli.translate.maps import check_anchor_count

        check_anchor_count(len(anchor_embeddings), translate)
    pool = None
    if translate is not None and request.pool_rows:  # unpaired rows to refine its map with, later
        from stitchcli.heads.pool import pool_sample

        pool = pool_sample(file, request.pool_rows, request.seed)
    anchor_tensors: dict = {}
    carried = {}
    if source.relative is not None:  # the head carries its anchor set: it embeds them anywhere
        from stitchcli.anchors.carried import anchor_file_of, carry

        anchor_file = anchor_file_of(source, request.anchors)
        if anchor_file is not None:
            anchor_tensors, carried = carry(anchor_file)
    elif request.anchors is not None:
        raise StitchError(f"{file.path} was embedded without anchors, so its head carries none",
                          hint="embed it with --anchors ANCHORS.safetensors first.")
    meta = HeadMeta(
        arch=config.arch, task=task.name, in_dim=config.in_dim, num_classes=config.num_classes,
        space=request.space, encoder=source.encoder, label_names=label_names, hidden=config.hidden,
        activation=config.activation, normalize=transform.normalize, topk=transform.topk,
        topk_power=transform.power, seed=request.seed, train_file=str(request.embeddings),
        dataset=source.dataset, dataset_fingerprint=source.dataset_fingerprint, dim=source.dim,
        scores=train_scores(module, inputs, labels, task),
        **(spec.head_fields() if spec is not None else {}),
        # Adam's settings, for heads trained by it (closed-form logistic and prototype never use them).
        **({"epochs": request.epochs, "lr": request.lr, "batch_size": request.batch_size}
           if trained_by_adam(module) else {}),
        temperature=temperature, translate=translate, refine=None if translate is None else request.refine,
        pool_rows=0 if pool is None else len(pool),
        relative=source.relative if request.space == "relative" or anchor_embeddings is not None else None,
        **carried,
    )
    return Head(path=Path(), meta=meta, module=module, anchor_embeddings=anchor_embeddings,
                anchor_tensors=anchor_tensors, pool_embeddings=pool)


def train_scores(module: nn.Module, inputs, labels: torch.Tensor, task) -> dict[str, float]:  # noqa: ANN001
    """What the head scores on its own train rows: accuracy, or MSE (and R² for regression)."""
    with torch.inference_mode():
        parts = [module(block) for _, block in inputs.blocks()]
    scores = task.train_scores(torch.cat(parts), labels)
    # As the file records them (rounded), so that the summary of train-head and a reloaded head agree.
    return {key: float(format(value, SCORE_DIGITS[key])) for key, value in scores.items()}


TEMPERATURES = torch.logspace(-3, 0, 61)  # 0.001 … 1, about 12 per decade


@torch.no_grad()
def fit_temperature(module: nn.Module, inputs, labels: torch.Tensor) -> float:
    """The temperature T that makes softmax(score / T) the best-calibrated probabilities on the train
    rows (least mean negative log-likelihood over a grid): how ``predict`` turns a prototype head's
    cosines into scores."""
    scores = torch.cat([module(block) for _, block in inputs.blocks()]).double()
    losses = [float(torch.nn.functional.cross_entropy(scores / t, labels)) for t in TEMPERATURES.tolist()]
    return float(TEMPERATURES[min(range(len(losses)), key=losses.__getitem__)])
