"""stitchcli: zero-shot model stitching with relative representations.

Python API: ``from stitchcli import load_head; load_head(path or "hf:ORG/NAME").predict(texts, encoder=...)``.
"""

from stitchcli._lazy import lazy_exports

__version__ = "0.1.0"

__all__ = ["__version__", "load_head"]

# The API loads on first use, like every package's exports: `stitch --help` stays light.
__getattr__, __dir__ = lazy_exports(__name__, {"load_head": ".api"})
