"""The calibration of `stitch check`: signals to a predicted of-probe, and that to a verdict (no torch)."""

from __future__ import annotations

# predicted of-probe = clip(intercept + sum(weight * signal), *PREDICTION_RANGE), over the signals
# named in "weights" (pair_signals' names). Fitted by least squares on validation rows of every ordered
# pair of the three hard-pair cases at 10, 25, 50, 100, 300 and 768 anchors (108 pairs;
# benchmarks/check_calibration.py --fit heldout_match log_anchors): Spearman 0.86 there, every pair
# below 0.85 of probe flagged. Adding the pool balance, R², cluster agreement or neighbour agreement
# did not rank better (0.83-0.87) and some took weights of the wrong sign: fitted noise.
CALIBRATION: dict = {"intercept": 0.2344, "weights": {"heldout_match": 0.1378, "log_anchors": 0.2494}}
PREDICTION_RANGE = (0.0, 1.1)
# The gate: a map that finds held-out anchors' partners no better than a few times chance carries
# nothing, whatever the anchor count (anchors that do not correspond, or encoders that share little).
# Such pairs measured 0.06-0.76 of probe (benchmarks/check_calibration.py --mismatched: B's anchor rows
# out of order, 36 pairs), so the forecast is held at CEILING, a FAIL. Chance is one in the held-out
# anchors of a fold (a fifth of the anchors).
GATE: dict = {"signal": "heldout_match", "chance_multiple": 3.0, "ceiling": 0.5, "folds": 5}
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
    total = min(max(total, low), high)
    return min(total, GATE["ceiling"]) if gated(signals) else total


def gated(signals: dict[str, float | None]) -> bool:
    """Whether held-out anchors are matched at no more than ``GATE``'s multiple of chance."""
    match, log_anchors = signals.get(GATE["signal"]), signals.get("log_anchors")
    if match is None or log_anchors is None:
        return False
    chance = min(1.0, GATE["folds"] / 10 ** log_anchors)
    return match <= min(1.0, GATE["chance_multiple"] * chance) and match < 1.0


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
