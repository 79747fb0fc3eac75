"""The default stitching recipe, in one place: chosen by measurement (see README, "Defaults")."""

from __future__ import annotations

# Importable without torch: the CLI layer reads these for option defaults and help text.
SIMILARITY = "cosine"
CENTER = False
NORMALIZE = "none"
TOPK = 0
TOPK_POWER = 1.0
ARCH = "mlp"
STRATEGY = "stratified"
NUM_ANCHORS = 300
EPOCHS = 10
LR = 1e-4
BATCH_SIZE = 32
HIDDEN = 768
ACTIVATION = "silu"
