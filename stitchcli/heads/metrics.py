"""Classification metrics on label tensors: accuracy, macro F1, the confusion matrix and per-class scores."""

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


def confusion(predicted: torch.Tensor, target: torch.Tensor, num_classes: int) -> list[list[int]]:
    """``matrix[true][predicted]``: how many samples of each class went to each class."""
    counts = torch.bincount(target.long() * num_classes + predicted.long(), minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes).tolist()


def per_class(matrix: list[list[int]], names: list[str]) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support of each class, from a confusion matrix (0 where undefined)."""
    scores = {}
    for c, name in enumerate(names):
        tp = matrix[c][c]
        predicted = sum(row[c] for row in matrix)
        support = sum(matrix[c])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * tp / (predicted + support) if predicted + support else 0.0
        scores[name] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return scores
