#!/usr/bin/env bash
# The paper's text stitching (Moschella et al., ICLR 2023, Table 5): TREC (coarse) and DBpedia-14
# with four frozen HF encoders, CLS pooling, 768 stratified anchors, relative and absolute heads.
# Needs hub access (models and datasets) and the hf-datasets extra; hours on CPU, minutes on a GPU.
#
#   ./recipes/paper-text.sh [--device cuda]
#
# Paper figures (weighted F1 ×100, cross-architecture averages), TREC / DBpedia:
# absolute stitched 21.5 / 7.0, relative stitched 74.5 / 80.8.
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh
ensure_venv
pip_install -e '.[hf-datasets]'
STITCH="$VENV/bin/stitch"
DEVICE_ARGS=("$@")

ENCODERS=(bert-base-cased bert-base-uncased google/electra-base-discriminator roberta-base)
# dataset  text column  label column
TASKS=("trec text coarse_label" "dbpedia_14 content label")

for task in "${TASKS[@]}"; do
  read -r dataset text_col label_col <<<"$task"
  run="runs/paper-text/${dataset}"
  mkdir -p "$run"
  "$STITCH" anchors --dataset "hf:$dataset" --split train --label-column "$label_col" \
    --text-column "$text_col" --num 768 --strategy stratified --seed 0 --out "$run/anchors.safetensors"
  heads=()
  tests=()
  for encoder in "${ENCODERS[@]}"; do
    name=${encoder//\//_}
    for split in train test; do
      "$STITCH" embed --encoder "hf:$encoder" --dataset "hf:$dataset" --split "$split" \
        --text-column "$text_col" --label-column "$label_col" --pooling cls --max-length 256 \
        --batch-size 64 --anchors "$run/anchors.safetensors" "${DEVICE_ARGS[@]}" \
        --out "$run/$name-$split.safetensors"
    done
    tests+=(--embeddings "$run/$name-test.safetensors")
    for space in relative absolute; do
      "$STITCH" train-head --embeddings "$run/$name-train.safetensors" --space "$space" --translate none --arch mlp \
        --activation silu --epochs 5 --lr 1e-4 --batch-size 32 --seed 0 --out "$run/$name-$space.safetensors"
      heads+=(--head "$run/$name-$space.safetensors")
    done
  done
  "$STITCH" evaluate "${heads[@]}" "${tests[@]}" --skip-incompatible
  "$STITCH" evaluate "${heads[@]}" "${tests[@]}" --skip-incompatible --json > "$run/evaluate.json"
done
