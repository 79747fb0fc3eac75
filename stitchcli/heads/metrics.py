"""Metrics: accuracy, macro F1, the confusion matrix and per-class scores; MSE, R² and PSNR."""

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


def mse(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Mean squared error over every row and output (float64 sums)."""
    if target.numel() == 0:
        return 0.0
    return float(((predicted.double() - target.double()) ** 2).mean())


def r2(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Coefficient of determination, averaged over the outputs (scikit-learn's ``uniform_average``);
    an output that is constant in ``target`` counts 1 when predicted exactly, else 0."""
    target, predicted = target.double(), predicted.double()
    if len(target) == 0:
        return 0.0
    residual = ((target - predicted) ** 2).sum(dim=0)
    total = ((target - target.mean(dim=0)) ** 2).sum(dim=0)
    constant = total <= 1e-12
    scores = torch.where(constant, (residual <= 1e-12).double(), 1 - residual / total.clamp_min(1e-300))
    return float(scores.mean())


MAX_PSNR = 100.0  # dB; an exact reconstruction (MSE 0) is reported as this, not as infinity (not JSON)


def psnr(error: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of a mean squared error on values in [0, ``peak``]."""
    import math

    return MAX_PSNR if error <= 0 else min(MAX_PSNR, 10 * math.log10(peak * peak / error))
