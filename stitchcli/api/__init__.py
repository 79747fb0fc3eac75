"""The Python API on arrays and objects: encoders, relative vectors, translation maps and heads.

``encoder`` (``load_encoder``: ``embed`` through ``stitch embed``'s loop) · ``spaces`` (``relative``,
``fit_translation``) · ``heads`` (``load_head``, ``StitchHead.predict`` / ``predict_vectors``) ·
``training`` (``train_head``) · ``vectors`` (arrays laid out as the embeddings file the CLI reads,
so every function runs the CLI's own code) · ``arrays`` (what inputs are accepted). Loads lazily.
"""

from stitchcli._lazy import lazy_exports

__all__ = ["Encoder", "Prediction", "StitchHead", "Translation", "fit_translation", "load_encoder",
           "load_head", "relative", "train_head"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "Encoder": ".encoder", "load_encoder": ".encoder", "Prediction": ".heads", "StitchHead": ".heads",
    "load_head": ".heads", "Translation": ".spaces", "fit_translation": ".spaces", "relative": ".spaces",
    "train_head": ".training",
})
