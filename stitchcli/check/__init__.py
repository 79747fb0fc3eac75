"""`stitch check`: a label-free forecast of how well a head trained on one encoder reads another's file.

``signals`` (label-free numbers of a pair of anchor sets, with unpaired rows) and ``calibration``
(signals to a predicted of-probe and a verdict; no torch) ← ``forecasting`` (``forecast``,
``Forecast``) ← ``sides`` (the two files, checked from their headers without torch, then read).
Exports load lazily: ``check_pair`` and the calibration cost no torch.
"""

from stitchcli._lazy import lazy_exports

__all__ = ["CALIBRATION", "SIGNAL_NAMES", "THRESHOLDS", "VERDICTS", "Forecast", "Side", "at_least_as_bad",
           "check_files", "check_pair", "forecast", "pair_signals", "predict_of_probe", "verdict_of"]

__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["CALIBRATION", "THRESHOLDS", "VERDICTS", "at_least_as_bad", "predict_of_probe",
                     "verdict_of"], ".calibration"),
    "Forecast": ".forecasting", "forecast": ".forecasting",
    "SIGNAL_NAMES": ".signals", "pair_signals": ".signals",
    "Side": ".sides", "check_files": ".sides", "check_pair": ".sides",
})
