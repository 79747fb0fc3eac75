"""A tiny stitchcli plugin, as a third-party package would ship it: an anchor strategy, a similarity,
a translation map, a task and a command."""

from __future__ import annotations

import dataclasses

import torch

from stitchcli.anchors.strategies import AnchorStrategy
from stitchcli.heads import TASKS
from stitchcli.relspace import Similarity
from stitchcli.translate import fit_affine


def _every_other(k: int, labels: torch.Tensor, spaces, generator) -> torch.Tensor:
    return torch.arange(0, 2 * k, 2)


def _dot(x: torch.Tensor, anchors: torch.Tensor, out: torch.Tensor) -> None:
    torch.mm(x, anchors.T, out=out)


EVERY_OTHER = AnchorStrategy("every_other", "rows 0, 2, 4, …", 0, _every_other)
DOT = Similarity("dot", "x · a (no invariance to scale)", frozenset({"rotation"}), lambda a: a, _dot)


def fit_lstsq(source: torch.Tensor, target: torch.Tensor):
    """A translation map (``stitchcli.translations``): least squares, as the built-in affine map."""
    return fit_affine(source, target)


# A task (``stitchcli.tasks``): class labels under another name.
LABELS = dataclasses.replace(TASKS.get("classification"), name="labels", description="class labels again")


def register_commands(app) -> None:  # noqa: ANN001 - the root typer app
    """Commands (``stitchcli.commands``), as llm's ``register_commands`` hook adds them."""

    @app.command(name="every-other")
    def every_other(count: int = 3) -> None:
        """Print the rows the every_other strategy picks."""
        print(" ".join(str(int(i)) for i in _every_other(count, torch.zeros(0), [], None)))
