#!/usr/bin/env bash
# Relative decoders on frozen image encoders, offline: each encoder's images are decoded (reconstructed)
# from its relative vectors by a head trained on another encoder's, zero-shot, beside the absolute
# decoder read through a map fitted on the anchors and the plain absolute baseline.
#   encoders: MobileNetV2 (CNN, 1280-d), a DINOv2-S/14-derived ViT (384-d), EfficientNet-Lite1 (CNN, 1280-d)
#   data:     scikit-learn's digits (8×8 grayscale, decoded at 8×8) and Debian's clip art (RGB, at 32×32)
# Embeddings are those of ./recipes/hard-pairs.sh (reused from runs/hard-pairs/ when there, else made);
# writes runs/reconstruction/<data>/{results.json,table.md,grid.png}.
#
#   ./recipes/reconstruction.sh [--digits-only]
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh

DATASETS=(digits clipart)
for arg in "$@"; do
  case "$arg" in
    --digits-only) DATASETS=(digits) ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "Error: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
prepare_offline_assets --with-images
ENCODERS=(mobilenetv2 dinov2s effnetlite1)
encoder_args() {  # the `stitch embed` options of each encoder, as in hard-pairs.sh
  case "$1" in
    mobilenetv2) echo "--encoder timm:mobilenetv2_100 --weights $(asset mobilenetv2)" ;;
    dinov2s) echo "--encoder hf:.assets/dinov2-s" ;;
    effnetlite1) echo "--encoder timm:tf_efficientnet_lite1 --weights $(asset effnet_lite1)" ;;
  esac
}

for dataset in "${DATASETS[@]}"; do
  run=runs/reconstruction/$dataset
  mkdir -p "$run"
  size=8 && [ "$dataset" = clipart ] && size=32
  train_source=$(asset "${dataset}_train")
  anchors=$run/anchors.safetensors
  # Up to 768 anchors (the default count); clip art has fewer train images, so all of them.
  rows=$("$PY" -c "import sys; from stitchcli.data import load_dataset; print(len(load_dataset(sys.argv[1])))" \
    "$train_source")
  "$STITCH" anchors --dataset "$train_source" --num "$(( rows < 768 ? rows : 768 ))" --out "$anchors" --quiet
  for name in "${ENCODERS[@]}"; do
    for split in train test; do
      out=$run/$name-$split.safetensors
      kept=runs/hard-pairs/$dataset/$name-$split.safetensors
      if [ -f "$kept" ]; then
        cp "$kept" "$out"  # the same command's output: embedding images again costs minutes
      else
        # shellcheck disable=SC2046
        "$STITCH" embed --dataset "$(asset "${dataset}_$split")" --out "$out" --batch-size 32 \
          $(encoder_args "$name")
      fi
    done
    "$STITCH" relative --embeddings "$run/$name-train.safetensors" --anchors "$anchors" --quiet
    "$STITCH" relative --embeddings "$run/$name-test.safetensors" --anchors "$anchors" \
      --anchor-embeddings-from "$run/$name-train.safetensors" --quiet
  done
  heads=()
  tests=()
  for name in "${ENCODERS[@]}"; do
    tests+=(--embeddings "$run/$name-test.safetensors")
    for recipe in relative absolute baseline; do
      case "$recipe" in
        relative) extra=(--space relative) ;;
        absolute) extra=(--space absolute) ;;
        baseline) extra=(--space absolute --translate none) ;;
      esac
      head=$run/$name-$recipe.safetensors
      "$STITCH" train-head --embeddings "$run/$name-train.safetensors" --task reconstruction \
        --target-size "$size" "${extra[@]}" --out "$head" --quiet
      heads+=(--head "$head")
    done
  done
  echo "== $dataset: every decoder on every encoder's test images" >&2
  "$STITCH" evaluate "${heads[@]}" "${tests[@]}" --skip-incompatible --json > "$run/results.json.tmp"
  mv "$run/results.json.tmp" "$run/results.json"
  "$STITCH" evaluate --head "$run/mobilenetv2-relative.safetensors" "${tests[@]}" --plot "$run/grid.png" \
    > /dev/null
  "$PY" recipes/reconstruction_table.py "$run/results.json" | tee "$run/table.md"
done
echo "== wrote runs/reconstruction/ in $(( $(date +%s) - started )) s" >&2
