"""Multi-step jobs over the stages below: ``run`` (anchors → embed → heads → evaluate for many
encoders), ``sweep`` (stitching recipes compared on stored embeddings) and ``predict`` (embed new
data and a head's anchors with any encoder, then predict)."""

from stitchcli._lazy import lazy_exports

__all__ = ["FROM_FILE", "PredictDataRequest", "RunRequest", "SweepRequest", "expand_grid", "run_all",
           "run_predict_on_data", "run_sweep", "within_noise"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "RunRequest": ".run", "run_all": ".run:run",
    "PredictDataRequest": ".predict", "run_predict_on_data": ".predict",
    "SweepRequest": ".sweep", "expand_grid": ".sweep", "run_sweep": ".sweep", "FROM_FILE": ".sweep.data",
    "within_noise": ".sweep",
})
