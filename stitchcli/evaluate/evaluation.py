"""Zero-shot evaluation: any head on any embeddings file, after checking they fit together."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from stitchcli.errors import IncompatibleError
from stitchcli.heads.head import Head
from stitchcli.heads.inputs import FileInputs, TensorInputs
from stitchcli.heads.labels import label_mapping
from stitchcli.metadata import EmbeddingsMeta
from stitchcli.metadata.common import fingerprint_of
from stitchcli.storage.rows import RowReader, open_rows


@dataclass
class Result:
    head: str
    head_encoder: str
    embeddings: str
    encoder: str
    space: str
    stitched: bool
    accuracy: float | None = None  # None: the pair could not run (skipped as incompatible), shown as "—"
    macro_f1: float | None = None
    num_samples: int = 0
    method: str = "relative"
    # Per class of the head (its label names, in order): precision, recall, F1, support; and the
    # confusion matrix, confusion[true][predicted].
    per_class: dict | None = None
    confusion: list[list[int]] | None = None
    # What the head predicts, and the metric its tables lead with: "accuracy" for classification,
    # "mse" for regression (with r2) and reconstruction (with psnr, in dB of pixels in [0, 1]).
    task: str = "classification"
    metric: str = "accuracy"
    mse: float | None = None
    r2: float | None = None
    psnr: float | None = None
    refine: int | None = None  # translated rows: the most refinement rounds asked of the map

    @property
    def classifies(self) -> bool:
        """Whether the pair scores classes (accuracy, per-class scores) rather than values."""
        from stitchcli.heads.tasks import get_task

        return get_task(self.task).classifies

    @property
    def value(self) -> float | None:
        """The headline metric (``metric``); None when the pair could not run."""
        return getattr(self, self.metric)

    def as_json(self) -> dict:
        return dict(self.__dict__)


def check_compatible(head: Head, file: RowReader) -> None:
    """Refuse, with one line naming both sides, a file the head cannot read meaningfully."""
    if head.space == "relative":
        if not file.has("relative"):
            raise IncompatibleError(
                f"{file.path} has no relative vectors but {head.path} is a relative head",
                hint="embed it with --anchors (the head's anchor set), or run `stitch relative`.",
            )
        theirs, ours = EmbeddingsMeta.of(file).relative, head.meta.relative
        if fingerprint_of(theirs) != fingerprint_of(ours):
            raise IncompatibleError(
                f"{file.path} used anchor set {fingerprint_of(theirs)} but head {head.path} was trained on "
                f"anchor set {fingerprint_of(ours)}",
                hint="embed both with the same ANCHORS.safetensors.",
            )
        differs = ours.differs_from(theirs) if ours is not None else None
        if differs is not None:
            key, expected, used = differs
            raise IncompatibleError(
                f"{file.path} used {key} {used} but head {head.path} expects {expected}",
                hint="recompute with `stitch relative --similarity ... --center/--no-center`.",
            )
    dim = file.shape("relative" if head.space == "relative" else "embeddings")[1]
    if dim != head.config.in_dim:
        raise IncompatibleError(
            f"{file.path} has {head.space} vectors of dimension {dim} but head {head.path} "
            f"reads dimension {head.config.in_dim}",
            hint="an absolute head only works on encoders of its own width; use a relative head."
            if head.space == "absolute" else None,
        )


class _Translated:
    """Inputs mapped block by block into another encoder's space."""

    def __init__(self, inputs: FileInputs, translate) -> None:
        self.inputs, self.translate = inputs, translate

    def blocks(self):
        for start, block in self.inputs.blocks():
            yield start, self.translate(block)


def translated_inputs(head: Head, file: RowReader, method: str, refine: int | None = None) -> _Translated:
    """The file's embeddings mapped into the head's encoder space through the shared anchors (the map
    refined for up to ``refine`` rounds, by default what the head records: ``evaluate.refined``)."""
    theirs = EmbeddingsMeta.of(file).anchors_fingerprint
    ours = head.meta.anchors_fingerprint
    if head.anchor_embeddings is None or ours is None:
        raise IncompatibleError(
            f"head {head.path} holds no anchor embeddings to translate with",
            hint="train it on a file embedded with --anchors.",
        )
    if not file.has("anchor_embeddings") or theirs != ours:
        raise IncompatibleError(
            f"{file.path} used anchor set {theirs} but head {head.path} holds anchor set {ours}",
            hint="embed both with the same ANCHORS.safetensors.",
        )
    from stitchcli.evaluate.refined import head_map

    translate = head_map(head, file, method, refine)
    return _Translated(FileInputs(file, "absolute", head.transform), translate)


def predict_many(heads: list[Head], inputs) -> list[torch.Tensor]:
    """Class predictions (or, for heads of values, outputs) of several heads on the same inputs (a
    tensor or blocks of ``FileInputs``).

    Heads that start with a LayerNorm (both built-in architectures) share its normalisation:
    it is computed once per chunk, and each head applies only its own affine part and the
    rest. With many heads that is most of the work for linear heads.
    """
    predictions: list[list[torch.Tensor]] = [[] for _ in heads]
    if isinstance(inputs, torch.Tensor):
        inputs = TensorInputs(inputs)
    for _, chunk in inputs.blocks():
        shared: dict[float, torch.Tensor] = {}
        for i, head in enumerate(heads):
            first = head.module[0] if isinstance(head.module, nn.Sequential) else None
            if isinstance(first, nn.LayerNorm) and tuple(first.normalized_shape) == (chunk.shape[1],):
                if first.eps not in shared:
                    shared[first.eps] = F.layer_norm(chunk, first.normalized_shape, eps=first.eps)
                x = shared[first.eps]
                if first.weight is not None:
                    x = x * first.weight if first.bias is None else torch.addcmul(first.bias, x, first.weight)
                logits = head.module[1:](x)
            else:
                logits = head.module(chunk)
            predictions[i].append(head.task.decide(logits))
    return [torch.cat(p) if p else h.task.no_outputs(h.config.num_classes)
            for p, h in zip(predictions, heads, strict=True)]


def _result(head: Head, file: RowReader, predicted: torch.Tensor, method: str,
            targets: dict | None = None, refine: int | None = None) -> Result:
    """``head``'s scores on ``file`` from its predictions (classes or values), as its task computes them
    (``targets``: a cache of value targets shared by the heads that read this file)."""
    return Result(**_pair(head, file, method), **head.task.scores(head, file, predicted, targets),
                  refine=refine)


def _pair(head: Head, file: RowReader, method: str) -> dict:
    """The fields of a result that name the pair: head, file, encoders, space, map and task."""
    encoder = EmbeddingsMeta.of(file).encoder
    return {"head": str(head.path), "head_encoder": head.encoder, "embeddings": str(file.path),
            "encoder": encoder, "space": head.space, "stitched": encoder != head.encoder, "method": method,
            "task": head.task.name, "metric": head.task.metric}


def skipped_result(head: Head, file: RowReader, method: str | None) -> Result:
    """A pair that could not run, so that tables and pictures keep its row and column with "—"."""
    return Result(**_pair(head, file, method or head.space), num_samples=file.num_rows)


def head_inputs(head: Head, file: RowReader, translate: str | None = None,
                refine: int | None = None) -> tuple[object, str]:
    """What ``head`` reads of ``file`` and how it is named: an absolute head through ``translate``
    (by default the map the head records; ``none``: as it is) refined for up to ``refine`` rounds (by
    default what the head records), checked like ``check_compatible``."""
    method = head.translation(translate)
    # On the head's own encoder the fitted map is the identity; applying it anyway keeps every row
    # of a translated matrix complete and comparable.
    if method is not None:
        return translated_inputs(head, file, method, refine), method
    check_compatible(head, file)
    return FileInputs(file, head.space, head.transform), head.space


@torch.inference_mode()
def evaluate(head: Head, file: RowReader, translate: str | None = None,
             targets: dict | None = None, refine: int | None = None) -> Result:
    """Accuracy of ``head`` on ``file``; ``translate`` maps an absolute head's input first (by
    default, the map the head records, if any), refined for up to ``refine`` rounds (by default, what
    the head records)."""
    inputs, method = head_inputs(head, file, translate, refine)
    label_mapping(head, file)
    rounds = head.refinement(refine) if isinstance(inputs, _Translated) else None
    return _result(head, file, predict_many([head], inputs)[0], method, targets, rounds)


def _check_pair(head: Head, file: RowReader) -> bool:
    check_compatible(head, file)
    label_mapping(head, file)
    return True


def head_methods(head: Head, methods: list[str | None] | None) -> list[str | None]:
    """How ``head`` reads other encoders: the ``methods`` asked for (absolute heads), else the map its
    file records (``train-head --translate``), else its own space as it is (None)."""
    if head.space != "absolute":
        return [None]
    return list(methods) if methods is not None else [head.translation()]


@torch.inference_mode()
def evaluate_matrix(
    heads: list[Head],
    paths: list,
    methods: list[str | None] | None,
    skip_incompatible: bool = False,
    on_skip=None,
    on_pair=None,
    refine: int | None = None,
) -> list[Result]:
    """Every head on every file, one file at a time, each read a block of rows at a time (files, plain
    or sharded, can be larger than memory).

    ``methods`` (translations for absolute heads; None: what each head records) give a row each;
    ``refine`` (None: what each head records) the most refinement rounds of translated heads' maps.
    Plain heads that read the same inputs (space and relative transform) run together on each
    file (shared input normalisation);
    translated heads run one by one, since each maps the inputs differently.
    Results come head-major (all files of the first head first), as a table reads.
    """
    for path in paths:  # cheap checks first: a wrong file fails before any slow work
        open_rows(path)
    found: dict[tuple[int, int, int], Result] = {}

    def attempt(head: Head, file: RowReader, method: str | None, run, *args):
        try:
            return run(*args)
        except IncompatibleError as exc:
            if not skip_incompatible:
                raise
            if on_skip:  # (head, file, error, the row's method: None for a head read as it is)
                on_skip(head, file, exc, method)
        finally:
            if on_pair:
                on_pair()
        return None

    for f, path in enumerate(paths):
        file = open_rows(path)
        targets: dict = {}  # value heads' targets of this file, read from its source once per spec
        plain: dict[tuple, list[tuple[int, int, Head]]] = {}
        for h, head in enumerate(heads):
            for m, method in enumerate(head_methods(head, methods)):
                if method is None:
                    plain.setdefault((head.space, head.transform), []).append((h, m, head))
                    continue
                result = attempt(head, file, method, evaluate, head, file, method, targets, refine)
                if result is not None:
                    found[h, m, f] = result
        for (space, transform), group in plain.items():
            ready = []
            for h, m, head in group:
                if attempt(head, file, None, _check_pair, head, file):
                    ready.append((h, m, head))
            if ready:
                inputs = FileInputs(file, space, transform)
                predictions = predict_many([head for _, _, head in ready], inputs)
                for (h, m, head), predicted in zip(ready, predictions, strict=True):
                    found[h, m, f] = _result(head, file, predicted, space, targets)
    return [found[key] for key in sorted(found)]
