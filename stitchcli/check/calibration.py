"""The calibration of `stitch check`: signals to a predicted of-probe, and that to a verdict (no torch)."""

from __future__ import annotations

# predicted of-probe = clip(intercept + sum(weight * signal), *PREDICTION_RANGE), over the signals
# named in "weights" (pair_signals' names). A placeholder until fitted on real pairs: replace these
# numbers (and only these) with the calibrated ones.
CALIBRATION: dict = {"intercept": 0.5, "weights": {"cluster_agreement": 0.5}}
PREDICTION_RANGE = (0.0, 1.1)
# Verdicts on the predicted of-probe: PASS at or above "pass", WARN at or above "warn", else FAIL.
THRESHOLDS: dict[str, float] = {"pass": 0.90, "warn": 0.85}
VERDICTS = ("PASS", "WARN", "FAIL")  # best first (``--fail-on`` compares positions)


def predict_of_probe(signals: dict[str, float | None], calibration: dict | None = None) -> float | None:
    """The calibrated linear model on ``signals`` (None if a signal it weighs is None)."""
    calibration = CALIBRATION if calibration is None else calibration
    total = float(calibration["intercept"])
    for name, weight in calibration["weights"].items():
        value = signals.get(name)
        if value is None:
            return None
        total += float(weight) * value
    low, high = PREDICTION_RANGE
    return min(max(total, low), high)


def verdict_of(predicted: float | None, thresholds: dict[str, float] | None = None) -> str:
    """PASS / WARN / FAIL for a predicted of-probe; no prediction is a WARN (nothing to vouch for)."""
    thresholds = THRESHOLDS if thresholds is None else thresholds
    if predicted is None:
        return "WARN"
    if predicted >= thresholds["pass"]:
        return "PASS"
    return "WARN" if predicted >= thresholds["warn"] else "FAIL"


def at_least_as_bad(verdict: str, level: str) -> bool:
    """Whether ``verdict`` is ``level`` or worse (``level``: a verdict, any case)."""
    return VERDICTS.index(verdict) >= VERDICTS.index(level.upper())
