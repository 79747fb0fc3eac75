"""A sweep over one or more seeds: each recipe's results averaged, with 95% intervals of its summaries."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from stitchcli.jobs.sweep.data import SweepData
from stitchcli.jobs.sweep.runner import PairResult, RecipeResult, SweepRequest, check_request, sweep_once

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (then the normal's 1.96).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042)
SUMMARIES = ("mean_accuracy", "mean_kept", "min_kept", "mean_of_probe", "min_of_probe", "min_own_of_probe")


def half_width(values: list[float]) -> float:
    """t · s / √n: half the width of a 95% interval of the mean of ``values`` (0 for one value)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return (_T95[n - 2] if n - 2 < len(_T95) else 1.96) * spread / math.sqrt(n)


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if len(kept) == len(values) and kept else None


def combine(results: list[RecipeResult]) -> RecipeResult:
    """One recipe's results under several seeds as one: accuracies averaged pair by pair (ratios are
    then ratios of the means), and a 95% interval of each summary: around the combined value, as
    wide as the seeds' spread of that summary says."""
    first = results[0]
    pairs = []
    for i, pair in enumerate(first.pairs):
        same = [r.pairs[i] for r in results]
        pairs.append(PairResult(
            pair.head_encoder, pair.encoder, _mean([p.accuracy for p in same]),
            _mean([p.own_accuracy for p in same]), _mean([p.native_accuracy for p in same]),
            _mean([p.probe_accuracy for p in same])))
    own = {k: sum(r.own[k] for r in results) / len(results) for k in first.own}
    probe = {k: sum(r.probe[k] for r in results) / len(results) for k in first.probe}
    combined = replace(first, own=own, pairs=pairs, probe=probe, seeds=len(results), intervals={})
    for name in SUMMARIES:
        values = [getattr(r, name) for r in results]
        value = getattr(combined, name)
        if value is not None and all(v is not None for v in values):
            half = half_width(values)
            combined.intervals[name] = (value - half, value + half)
    return combined


def within_noise(results: list[RecipeResult], summary: str = "mean_of_probe") -> list[RecipeResult]:
    """The recipes whose interval of ``summary`` overlaps the best recipe's: not told apart by the seeds."""
    scored = [r for r in results if summary in r.intervals]
    if not scored:
        return []
    best = max(scored, key=lambda r: getattr(r, summary) or 0.0)
    low = best.intervals[summary][0]
    return [r for r in scored if r.intervals[summary][1] >= low]


def run_sweep(request: SweepRequest, on_recipe: Callable[[RecipeResult], None] | None = None
              ) -> tuple[SweepData, list[RecipeResult]]:
    """Every recipe of the request; ``on_recipe`` hears of each result as it is done. With
    ``seeds`` > 1 the whole sweep repeats with the following seeds (anchor draw, validation split,
    head seed) and each recipe's result holds the means, with 95% intervals across the seeds."""
    check_request(request)
    if request.seeds == 1:
        return sweep_once(request, request.seed, on_recipe)
    runs = []
    for seed in range(request.seed, request.seed + request.seeds):
        data, results = sweep_once(request, seed)
        runs.append(results)
    combined = [combine([run[i] for run in runs]) for i in range(len(runs[0]))]
    for result in combined:
        if on_recipe:
            on_recipe(result)
    return data, combined
