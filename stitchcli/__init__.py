"""stitchcli: zero-shot model stitching with relative representations."""

__version__ = "0.1.0"
