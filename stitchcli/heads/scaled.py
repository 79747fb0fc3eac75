"""A head of values: its inner module predicts standardised targets, put back on the targets' scale."""

from __future__ import annotations

import torch
from torch import nn


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
