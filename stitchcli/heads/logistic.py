"""Multinomial logistic regression: standardised inputs, L2 chosen on a stratified validation split,
fitted to convergence by full-batch L-BFGS a block of rows at a time (the same numbers in memory or
streamed from disk). It is both the ``logistic`` head and the probe that stitching is judged against."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from stitchcli.relspace.normalize import CHUNK_ROWS, MIN_STD, streamed_statistics

# L2 strengths tried (on the mean cross-entropy of standardised inputs; sklearn's C = 1 / (l2 · n)).
L2_GRID = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
FIXED_L2 = 1e-3  # when the train rows are too few to hold out a validation split
VALIDATION = 0.2  # fraction of each class held out to choose the strength
MAX_ITER = 500
Blocks = Callable[[], Iterable[tuple[int, torch.Tensor]]]


class StandardisedLinear(nn.Module):
    """``W · (x - mean) / scale + b``: the shape of the closed-form heads (logistic, ridge), whose
    ``fit_inputs`` set ``mean``, ``scale`` and the linear map."""

    def __init__(self, config) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(config.in_dim))
        self.register_buffer("scale", torch.ones(config.in_dim))
        self.linear = nn.Linear(config.in_dim, config.num_classes)

    def standardised(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.standardised(x))


class LogisticHead(StandardisedLinear):
    """``softmax(W · (x - mean) / scale + b)``; ``fit_inputs`` chooses the L2 strength and fits."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.register_buffer("l2", torch.tensor(FIXED_L2))
        nn.init.zeros_(self.linear.weight)  # a convex problem: start from zero, not from a random draw
        nn.init.zeros_(self.linear.bias)

    @torch.no_grad()
    def fit_inputs(self, blocks: Blocks, labels: torch.Tensor, seed: int = 0) -> None:
        """Fit on every row of ``blocks()`` (re-iterable (first row, rows) pairs in order)."""
        labels = labels.long()
        mean, scale = block_statistics(blocks)
        self.mean.copy_(mean)
        self.scale.copy_(scale)
        held = stratified_split(labels, VALIDATION, seed)
        l2 = FIXED_L2
        if held is not None:
            train_mask = torch.ones(len(labels), dtype=torch.bool)
            train_mask[held] = False
            best = None
            for strength in sorted(L2_GRID, reverse=True):  # strong to weak, warm-started
                with torch.enable_grad():
                    _lbfgs(self, blocks, labels, train_mask, strength)
                score = _accuracy(self, blocks, labels, ~train_mask)
                if best is None or score > best[0]:  # ties keep the stronger strength
                    best = (score, strength, [p.detach().clone() for p in self.linear.parameters()])
            l2 = best[1]
            for param, value in zip(self.linear.parameters(), best[2], strict=True):
                param.copy_(value)  # the final fit on every row starts from the chosen one
        self.l2.fill_(l2)
        with torch.enable_grad():
            _lbfgs(self, blocks, labels, None, l2)


def stratified_split(labels: torch.Tensor, fraction: float, seed: int) -> torch.Tensor | None:
    """A seeded ``fraction`` of each class's rows (positions), or None when some class would keep
    fewer than two rows for fitting or the split would be empty."""
    generator = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(labels).tolist():
        rows = torch.nonzero(labels == c).squeeze(1)
        rows = rows[torch.randperm(len(rows), generator=generator)]
        take = int(round(fraction * len(rows)))
        if len(rows) - take < 2:
            return None
        picked.append(rows[:take])
    held = torch.cat(picked) if picked else torch.empty(0, dtype=torch.long)
    return torch.sort(held).values if len(held) else None


def block_statistics(blocks: Blocks, keep_constant: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Each column's mean and spread, streamed (two float64 passes); with ``keep_constant`` a constant
    column gets scale 1 (left as it is, not blown up on other rows).

    Nearly constant columns keep their own spread here, unlike the translation maps'
    (``MIN_RELATIVE_SPREAD``): a floor raised EfficientNet-Lite1's probe on the test rows (digits
    0.938 → 0.965) but changed nothing on validation rows (stitched 0.946 → 0.947 digits, 0.668 both
    on clip art), and lost up to 0.06 on clip-art test pairs of its head; not adopted."""
    count = dim = 0
    for _, block in blocks():
        count, dim = count + len(block), block.shape[1]
    mean, scale = streamed_statistics(lambda: ((block, None) for _, block in blocks()), count, dim)
    if keep_constant:
        scale[scale <= MIN_STD] = 1.0
    return mean, scale


def _masked(blocks: Blocks, labels: torch.Tensor, mask: torch.Tensor | None
            ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for start, block in blocks():
        y = labels[start : start + len(block)]
        if mask is not None:
            keep = mask[start : start + len(block)]
            block, y = block[keep], y[keep]
        if len(y):
            yield block, y


def _lbfgs(head: LogisticHead, blocks: Blocks, labels: torch.Tensor, mask: torch.Tensor | None,
           l2: float) -> None:
    """Minimise the mean cross-entropy over the rows in ``mask`` + l2/2 · |W|², full batch."""
    count = int(mask.sum()) if mask is not None else len(labels)
    params = [head.linear.weight, head.linear.bias]
    optimiser = torch.optim.LBFGS(params, lr=1.0, max_iter=MAX_ITER, history_size=20,
                                  tolerance_grad=1e-6, tolerance_change=1e-10,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad(set_to_none=False)
        total = torch.zeros((), dtype=torch.float64)
        for x, y in _masked(blocks, labels, mask):
            loss = F.cross_entropy(head(x), y, reduction="sum") / count
            loss.backward()
            total += loss.detach().double()
        penalty = 0.5 * l2 * (head.linear.weight ** 2).sum()
        penalty.backward()
        return (total + penalty.detach().double()).float()

    optimiser.step(closure)


def _accuracy(head: LogisticHead, blocks: Blocks, labels: torch.Tensor, mask: torch.Tensor) -> float:
    right = total = 0
    for x, y in _masked(blocks, labels, mask):
        right += int((head(x).argmax(1) == y).sum())
        total += len(y)
    return right / max(total, 1)


def probe_accuracy(train: torch.Tensor, train_labels: torch.Tensor, test: torch.Tensor,
                   test_labels: torch.Tensor, seed: int = 0) -> float:
    """What a supervised linear head reaches on one encoder: a logistic probe fitted on ``train``
    (absolute vectors), scored on ``test``. The yardstick of stitching ("of probe")."""
    from types import SimpleNamespace

    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    head = LogisticHead(SimpleNamespace(in_dim=train.shape[1], num_classes=num_classes))
    head.fit_inputs(lambda: _tensor_blocks(train), train_labels, seed)
    with torch.inference_mode():
        predicted = torch.cat([head(x).argmax(1) for _, x in _tensor_blocks(test)])
    return float((predicted == test_labels).float().mean())


def _tensor_blocks(x: torch.Tensor, rows: int = CHUNK_ROWS) -> Iterator[tuple[int, torch.Tensor]]:
    for start in range(0, len(x), rows):
        yield start, x[start : start + rows].float()
