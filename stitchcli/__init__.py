"""stitchcli: zero-shot model stitching with relative representations.

Python API (``stitchcli.api``, loaded on first use)::

    import stitchcli as st
    enc = st.load_encoder("hf:sentence-transformers/all-MiniLM-L6-v2")
    x = enc.embed(texts)                                  # numpy (N, D), as `stitch embed`
    head = st.load_head("hf:ORG/NAME")
    head.predict(texts, encoder=enc)                      # as `stitch predict --encoder`
"""

from stitchcli._lazy import lazy_exports

__version__ = "0.1.0"

_API = ("Encoder", "Prediction", "StitchHead", "Translation", "fit_translation", "load_encoder", "load_head",
        "relative", "train_head")

__all__ = ["__version__", *_API]

# The API loads on first use, like every package's exports: `stitch --help` stays light.
__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(_API, ".api"))
