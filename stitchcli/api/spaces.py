"""Relative vectors and translation maps on arrays: ``relative`` and ``fit_translation``."""

from __future__ import annotations

import numpy as np

from stitchcli import defaults
from stitchcli.api import arrays
from stitchcli.errors import StitchError


def relative(x, anchors, *, similarity: str = defaults.SIMILARITY,
             center: bool = defaults.CENTER) -> np.ndarray:
    """Relative vectors: each row's similarities to the anchors, as ``stitch embed --anchors`` writes them.

    Args:
        x: embeddings (N, D): a list of rows, a numpy array or a torch tensor.
        anchors: the anchors' embeddings (K, D) by the same encoder.
        similarity: ``cosine`` (default), ``angular``, ``whitened``, ``euclidean``, ``l1``, ``linf``, or
            several joined by ``+`` (as ``--similarity``).
        center: subtract the anchors' mean from both sides first (as ``--center``, the default).

    Returns:
        A float32 numpy array (N, K) (N, K·m for m similarities joined by ``+``): the file's
        ``relative`` tensor for the same embeddings and defaults.

    Example:
        >>> r = st.relative(x, anchor_x)                 # cosine to centred anchors
        >>> r = st.relative(x, anchor_x, similarity="cosine+euclidean", center=False)
    """
    from stitchcli.relspace import RelativeProjector

    anchors = arrays.matrix(anchors, "anchors")
    x = arrays.matrix(x, "x", dim=anchors.shape[1])
    if not isinstance(similarity, str):
        raise StitchError(f"similarity must be a name such as cosine, not {type(similarity).__name__}")
    return arrays.numpy(RelativeProjector(anchors, similarity, arrays.flag(center, "center"))(x))


class Translation:
    """A map fitted on paired anchors from one encoder's space (``source``) into another's (``target``)."""

    def __init__(self, method: str, function, source_dim: int, target_dim: int) -> None:
        self.method, self._function = method, function
        self.source_dim, self.target_dim = source_dim, target_dim

    def __repr__(self) -> str:
        return f"Translation({self.method}, {self.source_dim} → {self.target_dim})"

    def transform(self, x) -> np.ndarray:
        """``x`` (N, source_dim) mapped into the target space: a float32 numpy array (N, target_dim)."""
        return arrays.numpy(self.transform_tensor(arrays.matrix(x, "x", dim=self.source_dim)))

    def transform_tensor(self, x):
        """``transform`` on a float32 torch tensor, returning one (no checks)."""
        return self._function(x)

    __call__ = transform


def fit_translation(method: str, source_anchors, target_anchors) -> Translation:
    """Fit a map between two encoders' spaces on the same anchors embedded by each.

    Args:
        method: ``ridge`` (the default of ``train-head``), ``procrustes``, ``affine`` or ``auto``
            (as ``--translate``).
        source_anchors: the anchors' embeddings (K, D_s) by the encoder to translate from.
        target_anchors: the same anchors, in the same order, embedded by the other encoder (K, D_t).

    Returns:
        A ``Translation`` whose ``transform(x)`` maps source vectors (N, D_s) to numpy (N, D_t): what
        ``stitch evaluate`` applies to a file before a translated head reads it.

    Example:
        >>> m = st.fit_translation("ridge", source_anchor_x, target_anchor_x)
        >>> y = m.transform(x_source)
    """
    from stitchcli.translate import fit_translation as fit

    if not isinstance(method, str):
        raise StitchError(f"method must be a name such as ridge, not {type(method).__name__}")
    source = arrays.matrix(source_anchors, "source_anchors")
    target = arrays.matrix(target_anchors, "target_anchors", rows=len(source))
    return Translation(method, fit(method, source, target), source.shape[1], target.shape[1])
