"""What a head predicts: tasks as objects in a registry (classification, regression, reconstruction),
each with its metric, the architectures that fit it, its scores and how its predictions are written.
No torch at import."""

from __future__ import annotations

from dataclasses import dataclass

from stitchcli import defaults
from stitchcli.errors import StitchError, UsageError
from stitchcli.registry import Registry

CLASSIFICATION = "classification"


@dataclass(frozen=True)
class Task:
    """A kind of head: what it is trained on, how it is scored and how its predictions are written.

    Everything that differs between tasks is a method or a field here, so that adding a task (in a
    plugin too) touches one module. Methods import torch only when called.
    """

    name: str
    description: str
    metric: str  # the headline metric of tables and --fail-under: "accuracy" or "mse"
    lower_is_better: bool
    default_arch: str
    # How targets are standardised for training (the head undoes it): "per_output" (each value
    # column on its own scale) or "global" (one scale for every pixel, so no pixel outweighs another).
    standardise: str = "none"
    title: str = ""  # the title of its table in `evaluate`
    images: bool = False  # its outputs are images (predictions: a folder of PNGs; a picture grid)
    # Architectures that cannot fit this task's targets, and the hint that names those that can.
    refuses: frozenset[str] = frozenset()
    refusal_hint: str = ""
    # How `stitch predict` writes predictions ("module:function" of (request, file, ids) -> summary) and
    # checks its output before any work ("module:function" of (out) -> out). Named, not imported: they
    # live in the evaluate layer above this one (a plugin's task names its own).
    writer: str = "stitchcli.evaluate.predict:write_classes"
    output_check: str = "stitchcli.evaluate.prediction_files:check_output"

    @property
    def classifies(self) -> bool:
        """Whether the head predicts classes (labels, top-k, per-class scores) rather than values."""
        return False

    def check_arch(self, arch: str) -> None:
        """Refuse an architecture that cannot fit the task's targets (one line, with the ones that can)."""
        if arch in self.refuses:
            raise StitchError(self.refusal(arch), hint=self.refusal_hint)

    def refusal(self, arch: str) -> str:
        return f"--arch {arch} is a classifier and cannot predict values for --task {self.name}"

    def check_targets(self, columns: list[str], size: int) -> None:
        """Refuse target options this task does not read (before any file is read)."""
        if columns:
            raise StitchError("--target-column is for --task regression")

    def loss(self):  # noqa: ANN201 - a torch loss module
        """What training by Adam minimises (a value head: squared error of standardised targets)."""
        from torch import nn

        return nn.MSELoss()

    def wrap(self, module, outputs: int):  # noqa: ANN001, ANN201 - torch modules
        """The module a head of this task runs (a value head puts outputs back on the targets' scale)."""
        from stitchcli.heads.scaled import TargetScaled

        return TargetScaled(module, outputs)

    def check_head(self, path, meta) -> None:  # noqa: ANN001 - a path and a HeadMeta
        """A head file's outputs fit its task's targets (checked before any module is built)."""
        spec = self.target_spec(meta, f"head file {path}")
        outputs = spec.outputs
        if outputs != meta.num_classes:
            raise StitchError(f"head file {path}: it has {meta.num_classes} outputs but its targets "
                              f"({self.name}) need {outputs}")

    def target_spec(self, meta, where: str = "head"):  # noqa: ANN001, ANN201 - HeadMeta -> TargetSpec
        """What the head outputs (a ``heads.targets.TargetSpec``); None for a classifier."""
        from stitchcli.heads.targets import TargetSpec

        return TargetSpec.from_meta(self.name, meta, where)

    def decide(self, outputs):  # noqa: ANN001, ANN201 - tensors
        """A head's raw outputs for a block of rows turned into predictions (classes or values)."""
        return outputs

    def no_outputs(self, width: int):  # noqa: ANN201
        import torch

        return torch.empty(0, width)

    def scores(self, head, file, outputs, targets: dict | None) -> dict:  # noqa: ANN001
        """The result fields of ``head``'s ``outputs`` on ``file``: num_samples and the metrics."""
        from stitchcli.heads.metrics import mse
        from stitchcli.heads.targets import read_targets

        target = read_targets(file, head.targets(), targets)
        error = mse(outputs, target)
        return {"num_samples": len(target), "mse": error, **self.extra_scores(outputs, target, error)}

    def extra_scores(self, outputs, target, error: float) -> dict:  # noqa: ANN001
        return {}

    def training_targets(self, reader, columns: list[str], size: int):  # noqa: ANN001, ANN201
        """(the ``TargetSpec`` a new head records or None, its train file's targets [N] or [N, outputs],
        label names) read for training."""
        raise NotImplementedError

    def train_scores(self, outputs, labels) -> dict[str, float]:  # noqa: ANN001
        """What the head scores on its own train rows (recorded in the file as ``train_*``)."""
        from stitchcli.heads.metrics import mse

        return {"train_mse": mse(outputs, labels)}

    def cell(self, result) -> str:  # noqa: ANN001 - an evaluate Result
        """One cell of the results table."""
        return f"{result.mse:.4g}"

    def check_top_k(self, head, top_k: int) -> None:  # noqa: ANN001
        """``--top-k`` ranks classes: only 1 for a head of values."""
        if top_k != 1:
            raise UsageError(f"--top-k ranks classes; this {self.name} head predicts values")

    def check_output(self, out):  # noqa: ANN001, ANN201 - a Path
        """Refuse, before any work, a predictions output this task cannot write."""
        return _named(self.output_check)(out)

    def write_predictions(self, request, file, ids) -> dict:  # noqa: ANN001
        """Write ``request.head``'s predictions on ``file`` (``ids(start, stop)`` names rows)."""
        return _named(self.writer)(request, file, ids)


@dataclass(frozen=True)
class Classification(Task):
    """Class labels: cross-entropy; accuracy, macro F1, per-class scores and the confusion matrix."""

    @property
    def classifies(self) -> bool:
        return True

    def refusal(self, arch: str) -> str:
        return f"--arch {arch} predicts values, not classes"

    def loss(self):  # noqa: ANN201
        from torch import nn

        return nn.CrossEntropyLoss()

    def wrap(self, module, outputs: int):  # noqa: ANN001, ANN201
        return module

    def check_head(self, path, meta) -> None:  # noqa: ANN001
        if meta.num_classes != len(meta.label_names):
            raise StitchError(f"head file {path}: num_classes is {meta.num_classes} but label_names lists "
                              f"{len(meta.label_names)}")

    def target_spec(self, meta, where: str = "head"):  # noqa: ANN001, ANN201
        return None

    def decide(self, outputs):  # noqa: ANN001, ANN201
        return outputs.argmax(dim=1)

    def no_outputs(self, width: int):  # noqa: ANN201
        import torch

        return torch.empty(0, dtype=torch.long)

    def scores(self, head, file, outputs, targets: dict | None) -> dict:  # noqa: ANN001
        from stitchcli.heads.labels import label_mapping
        from stitchcli.heads.metrics import accuracy, confusion, macro_f1, per_class

        target = label_mapping(head, file)[file.labels()]
        matrix = confusion(outputs, target, head.config.num_classes)
        return {"num_samples": len(target), "accuracy": accuracy(outputs, target),
                "macro_f1": macro_f1(outputs, target), "per_class": per_class(matrix, head.label_names),
                "confusion": matrix}

    def training_targets(self, reader, columns: list[str], size: int):  # noqa: ANN001, ANN201
        names = reader.label_names()
        if len(names) < 2:
            raise StitchError(f"{reader.path} has fewer than two classes; nothing to classify")
        return None, reader.labels(), names

    def train_scores(self, outputs, labels) -> dict[str, float]:  # noqa: ANN001
        from stitchcli.heads.metrics import accuracy

        return {"train_accuracy": accuracy(outputs.argmax(dim=1), labels)}

    def cell(self, result) -> str:  # noqa: ANN001
        return f"{result.accuracy:.3f}"

    def check_top_k(self, head, top_k: int) -> None:  # noqa: ANN001
        if not 1 <= top_k <= head.config.num_classes:
            raise UsageError(f"--top-k must be between 1 and the head's {head.config.num_classes} classes, "
                             f"got {top_k}")


@dataclass(frozen=True)
class Regression(Task):
    """Numeric target columns: squared error; MSE and R²."""

    def check_targets(self, columns: list[str], size: int) -> None:
        """Regression reads ``columns`` (checked when the train file is read)."""

    def training_targets(self, reader, columns: list[str], size: int):  # noqa: ANN001, ANN201
        from stitchcli.heads.targets import regression_training_targets

        return (*regression_training_targets(reader, self.name, columns), [])

    def extra_scores(self, outputs, target, error: float) -> dict:  # noqa: ANN001
        from stitchcli.heads.metrics import r2

        return {"r2": r2(outputs, target)}

    def train_scores(self, outputs, labels) -> dict[str, float]:  # noqa: ANN001
        from stitchcli.heads.metrics import r2

        return {**super().train_scores(outputs, labels), "train_r2": r2(outputs, labels)}

    def cell(self, result) -> str:  # noqa: ANN001
        return f"{result.mse:.4g} · {result.r2:.3f}"


@dataclass(frozen=True)
class Reconstruction(Task):
    """The input image, resized: squared error per pixel; MSE and PSNR. Predictions are PNG images."""

    def check_targets(self, columns: list[str], size: int) -> None:
        if size < 1:
            raise StitchError(f"--target-size must be positive, got {size}")
        super().check_targets(columns, size)

    def training_targets(self, reader, columns: list[str], size: int):  # noqa: ANN001, ANN201
        from stitchcli.heads.targets import image_training_targets

        return (*image_training_targets(reader, self.name, size), [])

    def extra_scores(self, outputs, target, error: float) -> dict:  # noqa: ANN001
        from stitchcli.heads.metrics import psnr

        return {"psnr": psnr(error)}

    def cell(self, result) -> str:  # noqa: ANN001
        return f"{result.mse:.4f} · {result.psnr:.1f} dB"



TASKS: Registry[Task] = Registry("task", group="stitchcli.tasks", named_by="name")
# Architectures that only fit one kind of target.
CLASSIFIER_ONLY = frozenset({"logistic", "prototype"})
REGRESSOR_ONLY = frozenset({"ridge"})
_VALUE_HINT = "choose ridge (the default), linear or mlp."


def register_task(task: Task) -> Task:
    return TASKS.register(task.name, task)


register_task(Classification(
    CLASSIFICATION, "class labels (cross-entropy; accuracy, macro F1)", "accuracy", False, defaults.ARCH,
    title="Accuracy of each head (rows) on each encoder's file (columns)", refuses=REGRESSOR_ONLY,
    refusal_hint="use it with --task regression or reconstruction."))
register_task(Regression(
    "regression", "numeric target columns (squared error; MSE, R²)", "mse", True, defaults.VALUE_ARCH,
    "per_output", title="MSE · R² of each regression head (rows) on each encoder's file (columns); lower MSE "
    "is better", refuses=CLASSIFIER_ONLY, refusal_hint=_VALUE_HINT,
    writer="stitchcli.evaluate.predict:write_values"))
register_task(Reconstruction(
    "reconstruction", "the input image, resized (squared error; MSE, PSNR)", "mse", True, defaults.VALUE_ARCH,
    "global", images=True,
    title="MSE · PSNR of each reconstruction head (rows) on each encoder's file (columns), "
    "pixels in [0, 1]; lower MSE is better", refuses=CLASSIFIER_ONLY, refusal_hint=_VALUE_HINT,
    writer="stitchcli.evaluate.predict:write_values",
    output_check="stitchcli.evaluate.prediction_files:check_image_folder"))


def get_task(name: str) -> Task:
    return TASKS.get(name)


def _named(target: str):  # noqa: ANN202
    """The function ``module:name`` names, imported on first use."""
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
