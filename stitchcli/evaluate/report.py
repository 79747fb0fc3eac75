"""Plain text for the tables and pictures of results: short unique names, row keys, titles and cells
(the rich tables themselves are drawn by the CLI, ``stitchcli.commands._tables``)."""

from __future__ import annotations

import re

from stitchcli.evaluate.evaluation import Result

SPEC_WIDTH = 28
_PARTS = re.compile(r"(?<=[/:])")  # split after path and source separators, keeping them


def short_spec(spec: str) -> str:
    """Keep the distinctive end of long specs (local model paths): ``hf:…/minilm-l6/model``."""
    return spec if len(spec) <= SPEC_WIDTH else spec.split(":", 1)[0] + ":…" + spec[-(SPEC_WIDTH - 4):]


def short_names(values: list[str]) -> dict[str, str]:
    """Each value without the leading path parts all share and without a shared ``.safetensors``:
    ``runs/q/minilm-l6-test.safetensors`` -> ``minilm-l6-test``. Distinct values stay distinct."""
    unique = list(dict.fromkeys(values))
    parts = [_PARTS.split(value.removesuffix(".safetensors")) for value in unique]
    shared = 0
    while len(unique) > 1 and all(len(p) > shared + 1 and p[shared] == parts[0][shared] for p in parts):
        shared += 1
    names = {value: "".join(p[shared:]) for value, p in zip(unique, parts, strict=True)}
    return names if len(set(names.values())) == len(names) else {value: value for value in unique}


def row_key(result: Result) -> tuple[str, str]:
    """One row per head and method: an absolute head may appear plain and translated."""
    return result.head, result.method




def title(task: str) -> str:
    """The title of a table of ``task``'s results (the task's own)."""
    from stitchcli.heads.tasks import TASKS

    return TASKS[task].title if task in TASKS and TASKS[task].title else f"{task} of each head"


def cell(result: Result) -> str:
    """A matrix cell, as the result's task writes it: accuracy, or MSE with R² or PSNR."""
    from stitchcli.heads.tasks import get_task

    return get_task(result.task).cell(result)


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
