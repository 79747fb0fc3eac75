"""Ridge regression: the closed-form decoder of regression and reconstruction heads. Inputs are
centred and divided by one spread shared by every column; the penalty is chosen on a seeded
validation split by squared error, then the map is solved on every row. Sums are streamed a block of
rows at a time (the same numbers in memory or from disk)."""

from __future__ import annotations

import torch

from stitchcli.heads.logistic import Blocks, StandardisedLinear, block_statistics

# Penalties tried, relative to the number of fitted rows (inputs of unit overall spread: the trace of
# X^T X / n is the number of columns).
ALPHA_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
FIXED_ALPHA = 1e-1  # when the rows are too few to hold out a validation split
VALIDATION = 0.2
MIN_ROWS_TO_VALIDATE = 10


class RidgeHead(StandardisedLinear):
    """``W · (x - mean) / scale + b``; ``fit_inputs`` chooses the penalty and solves for W and b.

    ``scale`` is the inputs' overall spread (the root mean square of the columns' spreads), the same
    for every column: dividing each column by its own spread would blow up columns that are nearly
    constant on the train rows (a CNN's dead channels: 1e-6) into noise on any other rows."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.register_buffer("alpha", torch.tensor(FIXED_ALPHA))

    @torch.no_grad()
    def fit_inputs(self, blocks: Blocks, targets: torch.Tensor, seed: int = 0) -> None:
        """Fit on every row of ``blocks()`` (re-iterable (first row, rows) pairs) to ``targets`` (N × T)."""
        mean, spread = block_statistics(blocks, keep_constant=False)
        self.mean.copy_(mean)
        overall = float(spread.double().pow(2).mean().sqrt())
        self.scale.fill_(overall if overall > 0 else 1.0)
        targets = targets.double().reshape(len(targets), -1)
        n = len(targets)
        alpha = FIXED_ALPHA
        if n >= MIN_ROWS_TO_VALIDATE:
            generator = torch.Generator().manual_seed(seed)
            held = torch.zeros(n, dtype=torch.bool)
            held[torch.randperm(n, generator=generator)[: max(1, int(round(VALIDATION * n)))]] = True
            sums = self._sums(blocks, targets, ~held)
            errors = {a: self._held_error(blocks, targets, held, *_solve(sums, a)) for a in ALPHA_GRID}
            alpha = min(ALPHA_GRID, key=lambda a: (errors[a], -a))  # ties keep the stronger penalty
        self.alpha.fill_(alpha)
        weight, bias = _solve(self._sums(blocks, targets, None), alpha)
        self.linear.weight.copy_(weight.T.float())
        self.linear.bias.copy_(bias.float())

    def _standardised_blocks(self, blocks: Blocks):
        for start, block in blocks():
            yield start, self.standardised(block).double()

    def _sums(self, blocks: Blocks, targets: torch.Tensor, mask: torch.Tensor | None) -> tuple:
        """Count, Σx, Σy, XᵀX and XᵀY over the rows in ``mask`` (float64)."""
        count, sx, sy, gram, cross = 0, 0.0, 0.0, 0.0, 0.0
        for start, x in self._standardised_blocks(blocks):
            y = targets[start : start + len(x)]
            if mask is not None:
                keep = mask[start : start + len(x)]
                x, y = x[keep], y[keep]
            count += len(x)
            sx, sy = sx + x.sum(0), sy + y.sum(0)
            gram, cross = gram + x.T @ x, cross + x.T @ y
        return count, sx, sy, gram, cross

    def _held_error(self, blocks: Blocks, targets: torch.Tensor, held: torch.Tensor, weight: torch.Tensor,
                    bias: torch.Tensor) -> float:
        total, count = 0.0, 0
        for start, x in self._standardised_blocks(blocks):
            keep = held[start : start + len(x)]
            y = targets[start : start + len(x)][keep]
            total += float(((x[keep] @ weight + bias - y) ** 2).sum())
            count += y.numel()
        return total / max(count, 1)


def _solve(sums: tuple, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """W (D × T) and b minimising |X W + b - Y|² + alpha · n · |W|², intercept unpenalised."""
    count, sx, sy, gram, cross = sums
    count = max(count, 1)
    mean_x, mean_y = sx / count, sy / count
    centred_gram = gram - count * torch.outer(mean_x, mean_x)
    centred_cross = cross - count * torch.outer(mean_x, mean_y)
    dim = centred_gram.shape[0]
    weight = torch.linalg.solve(centred_gram + alpha * count * torch.eye(dim, dtype=torch.float64),
                                centred_cross)
    return weight, mean_y - mean_x @ weight
