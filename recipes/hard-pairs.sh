#!/usr/bin/env bash
# Stitching on hard pairs, offline, with every setting at its default: the of-probe tables.
#   text:   MiniLM-L6 (384-d), MiniLM-L3 (384-d), MPNet (768-d) on Rotten Tomatoes snippets
#   images: MobileNetV2 (CNN, 1280-d), a DINOv2-S/14-derived ViT (384-d), EfficientNet-Lite1 (CNN,
#           1280-d) on scikit-learn's digits and Debian's openclipart clip art
# Each encoder embeds each train and test file once (kept in runs/hard-pairs/, reused on the next run;
# --fresh embeds again); `stitch sweep` then fits heads on each encoder's train file and scores them on
# every encoder's test file: the default (an absolute logistic head read through a ridge map fitted on
# the anchors), the relative heads (logistic, and the earlier default prototype), and the absolute
# baseline (--baseline); each pair also against a logistic probe of the encoder it reads (of probe).
#
#   ./recipes/hard-pairs.sh [--fresh] [--no-mpnet]
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh

FRESH=0
WITH_MPNET=1
for arg in "$@"; do
  case "$arg" in
    --fresh) FRESH=1 ;;
    --no-mpnet) WITH_MPNET=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "Error: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
prepare_args=(--with-images)
[ "$WITH_MPNET" = 1 ] && prepare_args+=(--with-mpnet)
prepare_offline_assets "${prepare_args[@]}"

run=runs/hard-pairs
embed() {  # embed NAME DATASET SPLIT SOURCE ENCODER-ARGS...
  local out="$run/$2/$1-$3.safetensors"
  if [ "$FRESH" = 1 ] || [ ! -f "$out" ]; then
    "$STITCH" embed --dataset "$4" --out "$out" --batch-size 32 "${@:5}"
  else
    echo "   reusing $out" >&2
  fi
}

sweep() {  # sweep DATASET NAME...
  local dataset=$1 files=()
  shift
  for name in "$@"; do files+=(--train "$run/$dataset/$name-train.safetensors"); done
  for name in "$@"; do files+=(--test "$run/$dataset/$name-test.safetensors"); done
  echo "== $dataset: the default (translated) recipe, relative heads and the absolute baseline" >&2
  "$STITCH" sweep "${files[@]}" --arch logistic --arch prototype --translate ridge --baseline --quiet \
    --json > "$run/$dataset/sweep.json.tmp"
  mv "$run/$dataset/sweep.json.tmp" "$run/$dataset/sweep.json"
  "$PY" recipes/sweep_summary.py "$run/$dataset/sweep.json"
}

mkdir -p "$run/text" "$run/digits" "$run/clipart"
texts=(minilm-l6 minilm-l3)
[ "$WITH_MPNET" = 1 ] && texts+=(mpnet)
for name in "${texts[@]}"; do
  echo "== text: $name" >&2
  embed "$name" text train "$(asset train)" --encoder "hf:.assets/$name"
  embed "$name" text test "$(asset test)" --encoder "hf:.assets/$name"
done
for dataset in digits clipart; do
  for split in train test; do
    source_path=$(asset "${dataset}_$split")
    echo "== $dataset $split: MobileNetV2, DINOv2-S ViT, EfficientNet-Lite1" >&2
    embed mobilenetv2 "$dataset" "$split" "$source_path" --encoder timm:mobilenetv2_100 \
      --weights "$(asset mobilenetv2)"
    embed dinov2s "$dataset" "$split" "$source_path" --encoder hf:.assets/dinov2-s
    embed effnetlite1 "$dataset" "$split" "$source_path" --encoder timm:tf_efficientnet_lite1 \
      --weights "$(asset effnet_lite1)"
  done
done

sweep text "${texts[@]}"
sweep digits mobilenetv2 dinov2s effnetlite1
sweep clipart mobilenetv2 dinov2s effnetlite1
echo "== wrote $run/{text,digits,clipart}/sweep.json in $(( $(date +%s) - started )) s" >&2
