"""What a head predicts: a registry of tasks (classification, regression, reconstruction), each with
its loss, its headline metric and the architectures that fit it. No torch at import."""

from __future__ import annotations

from dataclasses import dataclass

from stitchcli import defaults
from stitchcli.errors import StitchError

CLASSIFICATION = "classification"


@dataclass(frozen=True)
class Task:
    """A kind of head: what it is trained on and how it is scored."""

    name: str
    description: str
    metric: str  # the headline metric of tables and --fail-under: "accuracy" or "mse"
    lower_is_better: bool
    default_arch: str
    # How targets are standardised for training (the head undoes it): "per_output" (each value
    # column on its own scale) or "global" (one scale for every pixel, so no pixel outweighs another).
    standardise: str = "none"


TASKS: dict[str, Task] = {}
# Architectures that only fit one kind of target.
CLASSIFIER_ONLY = {"logistic", "prototype"}
REGRESSOR_ONLY = {"ridge"}


def register_task(task: Task) -> Task:
    TASKS[task.name] = task
    return task


register_task(Task(CLASSIFICATION, "class labels (cross-entropy; accuracy, macro F1)", "accuracy", False,
                   defaults.ARCH))
register_task(Task("regression", "numeric target columns (squared error; MSE, R²)", "mse", True,
                   defaults.VALUE_ARCH, "per_output"))
register_task(Task("reconstruction", "the input image, resized (squared error; MSE, PSNR)", "mse", True,
                   defaults.VALUE_ARCH, "global"))


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise StitchError(f"unknown task {name!r}", hint=f"choose one of {', '.join(TASKS)}.")
    return TASKS[name]


def check_arch(task: Task, arch: str) -> None:
    """Refuse an architecture that cannot fit the task's targets (one line, with the ones that can)."""
    if task.name == CLASSIFICATION and arch in REGRESSOR_ONLY:
        raise StitchError(f"--arch {arch} predicts values, not classes",
                          hint="use it with --task regression or reconstruction.")
    if task.name != CLASSIFICATION and arch in CLASSIFIER_ONLY:
        raise StitchError(f"--arch {arch} is a classifier and cannot predict values for --task {task.name}",
                          hint="choose ridge (the default), linear or mlp.")
