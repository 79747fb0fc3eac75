"""The default stitching recipe, in one place: chosen by measurement (see README, "Defaults")."""

from __future__ import annotations

# Importable without torch: the CLI layer reads these for option defaults and help text.
# Chosen with `stitch sweep --validation 0.25` on train rows of three text encoders (MiniLM-L6,
# MiniLM-L3, MPNet) and three image encoders (MobileNetV2, a DINOv2 ViT-S, EfficientNet-Lite1) on
# digits and clip art; the README's "Defaults" section gives the measurements.
SIMILARITY = "cosine"
CENTER = True  # the anchors' mean off both sides: CNN features are all positive, ViT ones are not
NORMALIZE = "file"  # each anchor coordinate standardised: encoders' cosines sit in other ranges
TOPK = 25  # a sample's 25 nearest anchors carry what transfers between unrelated encoders
TOPK_POWER = 3.0
# Stitching by default translates: an absolute logistic head (as good at home as a probe, by
# construction) reads another encoder through a ridge map fitted on the anchors. Judged by "of
# probe" on validation rows of text, digits and clip art, it beat every relative recipe (README).
SPACE = "absolute"
TRANSLATE = "ridge"
ARCH = "logistic"  # at home as good as a probe; on relative top-25 vectors it also stitched best
STRATEGY = "random"
NUM_ANCHORS = 768  # the paper's count; more anchors stitched better on every pair tried
EPOCHS = 10
LR = 1e-4
BATCH_SIZE = 32
HIDDEN = 768
# The least spread a column is divided by when a translation map standardises its inputs, as a
# fraction of the columns' typical (root mean square) spread. A CNN's dead channels have a spread of
# 1e-6 on the anchors and 1e-2 on other rows; divided by their own spread they became noise a million
# times larger than every other input. Chosen on validation rows among 0 (before) / 0.01 / 0.1 / 1:
# classification (`sweep --validation 0.25`, of probe mean / worst) text 0.972/0.932, 0.972/0.929,
# 0.972/0.929, 0.971/0.934; digits 0.974/0.947, 0.978/0.961, 0.984/0.976, 0.984/0.973; clip art
# 0.974/0.940, 0.974/0.940, 0.972/0.940, 0.975/0.940; reconstruction (digits, non-anchor rows, worst
# MSE) 0.059, 0.041, 0.039, 0.039. 1 has the best worst pair over all of them.
MIN_RELATIVE_SPREAD = 1.0
VALUE_ARCH = "ridge"  # regression and reconstruction: best worst pair on digits (validation rows)
TARGET_SIZE = 32  # reconstruction targets: images resized to 32 × 32, as the paper's CIFAR decoders
ACTIVATION = "silu"
# Refinement a translated head carries (issue 29): a seeded sample of its own encoder's train rows
# (``pool_embeddings``, at most POOL_ROWS of them) lets it refine its map with unpaired rows of the
# file it reads (self-learning, ``translate/refine.py``) for up to REFINE_ROUNDS rounds. Off: on
# validation rows of every hard pair at the default anchor count it did not win (text equal, digits'
# worst pair 0.973 -> 0.969, clip art's mean 0.974 -> 0.987); with 50 anchors it lifted the worst pair
# (digits 0.638 -> 0.699), so users with few anchors pass --refine 3 (benchmarks/anchor_budget.py).
# 2048 rows (8 KiB a row at 1280 dims, float32) cover every measured case's train rows; not tuned.
POOL_ROWS = 2048
REFINE_ROUNDS = 0
