"""A forecast of a head's of-probe on another encoder's file, from label-free signals of the pair."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from stitchcli.check.calibration import THRESHOLDS, predict_of_probe, verdict_of
from stitchcli.check.signals import FOLDS, MIN_FOLD_ANCHORS, pair_signals
from stitchcli.defaults import TRANSLATE


@dataclass
class Forecast:
    """What ``forecast`` says about one pair: the signals, the predicted of-probe (None when the
    signals it needs could not be computed), the verdict and why."""

    signals: dict[str, float | None]
    predicted_of_probe: float | None
    verdict: str
    anchors: int
    pool_rows: dict[str, int] = field(default_factory=dict)  # "target", "source": unpaired rows used
    reasons: list[str] = field(default_factory=list)
    same_encoder: bool = False
    method: str = TRANSLATE  # the map the signals fitted


def identical(target: torch.Tensor, source: torch.Tensor) -> bool:
    """Whether both sides embed the anchors the same (the head's own encoder), as the map fit judges it."""
    from stitchcli.translate.maps import same_space

    return same_space(source, target)


def forecast(target_anchors: torch.Tensor, source_anchors: torch.Tensor,
             target_pool: torch.Tensor | None = None, source_pool: torch.Tensor | None = None,
             method: str | None = None) -> Forecast:
    """Forecast how well a head trained on A (``target``) reads B (``source``) through the map
    ``method`` (None: the default) fitted on the anchors both embedded (row i of both is the same
    anchor sample)."""
    from stitchcli.check.signals import sample_pool

    count = len(target_anchors)
    signals = pair_signals(target_anchors, source_anchors, target_pool, source_pool, method)
    pools = {side: 0 if pool is None else len(sample_pool(pool))
             for side, pool in (("target", target_pool), ("source", source_pool))}
    reasons = []
    if identical(target_anchors, source_anchors):
        return Forecast(signals, 1.0, "PASS", count, pools, [
            "the same encoder on both sides (identical anchor embeddings): read without a map, as at home"],
            same_encoder=True, method=method or TRANSLATE)
    if count < MIN_FOLD_ANCHORS:
        reasons.append(f"only {count} anchors: the held-out signals need at least {MIN_FOLD_ANCHORS} "
                       f"({FOLDS} folds), so there is no forecast")
    if pools["target"] == 0:
        reasons.append("no unpaired rows on the head's side: clusters of A fitted on its anchors")
    predicted = predict_of_probe(signals)
    verdict = verdict_of(predicted)
    if predicted is not None:
        passing, warning = THRESHOLDS["pass"], THRESHOLDS["warn"]
        reasons.append(f"predicted of-probe {predicted:.3f}: PASS at {passing:.2f} or more, WARN at "
                       f"{warning:.2f} or more, else FAIL")
    return Forecast(signals, predicted, verdict, count, pools, reasons, method=method or TRANSLATE)
