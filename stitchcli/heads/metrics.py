"""Classification metrics on label tensors: accuracy and macro F1."""

from __future__ import annotations

import torch


def accuracy(predicted: torch.Tensor, target: torch.Tensor) -> float:
    if len(target) == 0:
        return 0.0
    # Exact counts, divided in float64: 740/1000 prints as 0.74, not float32's 0.7400000095367432.
    return int((predicted == target).sum()) / len(target)


def macro_f1(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Unweighted mean of per-class F1 over the classes present in target or prediction."""
    classes = torch.unique(torch.cat([predicted, target]))
    if len(classes) == 0:
        return 0.0
    scores = []
    for c in classes:
        tp = int(((predicted == c) & (target == c)).sum())
        fp = int(((predicted == c) & (target != c)).sum())
        fn = int(((predicted != c) & (target == c)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return sum(scores) / len(scores)
