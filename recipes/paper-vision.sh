#!/usr/bin/env bash
# The paper's vision stitching (Moschella et al., ICLR 2023, Table 4): CIFAR-100 with its 20 coarse
# labels, four frozen timm encoders each with its own preprocessing, 768 random anchors (seed 42,
# the same indices for every encoder), relative and absolute heads.
# Needs hub access (weights and data) and the hf-datasets extra; best on a GPU.
#
#   ./recipes/paper-vision.sh [--device cuda]
#
# Paper figures (weighted F1 ×100), decoder trained on ViT-base: relative 91.94 on itself,
# 81.42 from the ViT-ResNet encoder (absolute: 6.21), 84.29 from ViT-small, 76.81 from RexNet
# (absolute impossible there: other width).
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh
ensure_venv
pip_install -e '.[hf-datasets]'
STITCH="$VENV/bin/stitch"
DEVICE_ARGS=("$@")

ENCODERS=(vit_base_patch16_224 vit_small_patch16_224 vit_base_resnet50_384 rexnet_100)
DATASET=hf:uoft-cs/cifar100
run=runs/paper-vision
mkdir -p "$run"

"$STITCH" anchors --dataset "$DATASET" --split train --image-column img --label-column coarse_label \
  --num 768 --strategy random --seed 42 --out "$run/anchors.safetensors"
heads=()
tests=()
for encoder in "${ENCODERS[@]}"; do
  for split in train test; do
    "$STITCH" embed --encoder "timm:$encoder" --dataset "$DATASET" --split "$split" \
      --image-column img --label-column coarse_label --batch-size 64 \
      --anchors "$run/anchors.safetensors" "${DEVICE_ARGS[@]}" --out "$run/$encoder-$split.safetensors"
  done
  tests+=(--embeddings "$run/$encoder-test.safetensors")
  for space in relative absolute; do
    "$STITCH" train-head --embeddings "$run/$encoder-train.safetensors" --space "$space" --translate none --arch mlp \
      --activation tanh --epochs 10 --lr 1e-4 --batch-size 32 --seed 0 --out "$run/$encoder-$space.safetensors"
    heads+=(--head "$run/$encoder-$space.safetensors")
  done
done
"$STITCH" evaluate "${heads[@]}" "${tests[@]}" --skip-incompatible
"$STITCH" evaluate "${heads[@]}" "${tests[@]}" --skip-incompatible --json > "$run/evaluate.json"
