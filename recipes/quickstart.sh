#!/usr/bin/env bash
# The main job on a fresh machine, offline: real pretrained encoders (MiniLM-L6 and MiniLM-L3,
# shipped inside PyPI packages), Rotten Tomatoes fresh/rotten snippets, 768 random anchors, a
# relative and an absolute head per encoder (every other setting at its default), then every head
# on every encoder's test file.
#
#   ./recipes/quickstart.sh [--with-mpnet]
#
# Only documented `stitch` commands run here; the README shows the same steps one by one.
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh

WITH_MPNET=0
for arg in "$@"; do
  case "$arg" in
    --with-mpnet) WITH_MPNET=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "Error: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
prepare_args=()
[ "$WITH_MPNET" = 1 ] && prepare_args+=(--with-mpnet)
prepare_offline_assets "${prepare_args[@]}"
encoders=(minilm-l6 minilm-l3)
[ "$WITH_MPNET" = 1 ] && encoders+=(mpnet)
train=$(asset train)
test=$(asset test)

run=runs/quickstart
mkdir -p "$run"
echo "== stitch anchors" >&2
"$STITCH" anchors --dataset "$train" --num 768 --seed 0 --out "$run/anchors.safetensors"

heads=()
tests=()
for name in "${encoders[@]}"; do
  echo "== $name: stitch embed (train, test) and stitch train-head (relative, absolute)" >&2
  for split in train test; do
    source_file=$train
    [ "$split" = test ] && source_file=$test
    "$STITCH" embed --encoder "hf:.assets/$name" --dataset "$source_file" \
      --anchors "$run/anchors.safetensors" --batch-size 32 --out "$run/$name-$split.safetensors"
  done
  tests+=(--embeddings "$run/$name-test.safetensors")
  for space in relative absolute; do
    "$STITCH" train-head --embeddings "$run/$name-train.safetensors" --space "$space" \
      --out "$run/$name-$space.safetensors"
    heads+=(--head "$run/$name-$space.safetensors")
  done
done

echo "== stitch compare: how alike the two test spaces are, absolute vs relative" >&2
"$STITCH" compare "$run/minilm-l6-test.safetensors" "$run/minilm-l3-test.safetensors"

echo "== stitch evaluate: every head on every encoder's test file (absolute heads also via procrustes)" >&2
matrix=("${heads[@]}" "${tests[@]}" --translate none --translate procrustes --skip-incompatible)
"$STITCH" evaluate "${matrix[@]}" --plot "$run/matrix.png"
"$STITCH" evaluate "${matrix[@]}" --json > "$run/evaluate.json.tmp"
mv "$run/evaluate.json.tmp" "$run/evaluate.json"
echo "== wrote $run/evaluate.json and $run/matrix.png in $(( $(date +%s) - started )) s" >&2
