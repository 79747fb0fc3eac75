#!/usr/bin/env bash
# The main job on a fresh machine, offline: real pretrained encoders (MiniLM-L6 and MiniLM-L3,
# shipped inside PyPI packages), Rotten Tomatoes fresh/rotten snippets, 768 random anchors, a
# relative and an absolute head per encoder (every other setting at its default), then every head
# on every encoder's test file.
#
#   ./recipes/quickstart.sh [--with-mpnet]
#
# One `stitch run` does every step (files already up to date are reused); the README shows the
# same steps one command at a time.
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
encoders=(hf:.assets/minilm-l6 hf:.assets/minilm-l3)
[ "$WITH_MPNET" = 1 ] && encoders+=(hf:.assets/mpnet)
run=runs/quickstart

echo "== stitch run: anchors, embeddings, a relative and a translated absolute head per encoder, the matrix" >&2
"$STITCH" run "${encoders[@]}" --train "$(asset train)" --test "$(asset test)" --out-dir "$run" \
  --num-anchors 768

echo "== stitch compare: how alike the two test spaces are, absolute vs relative" >&2
"$STITCH" compare "$run/minilm-l6-test.safetensors" "$run/minilm-l3-test.safetensors"
echo "== stitch predict: the MiniLM-L6 head through MiniLM-L3 (never trained on) on reviews without labels" >&2
"$STITCH" predict --head "$run/minilm-l6-absolute.safetensors" --encoder hf:.assets/minilm-l3 \
  --dataset recipes/reviews-unlabelled.jsonl --id-column id --out "$run/predictions.csv"
"$PY" - "$run/predictions.csv" recipes/reviews-unlabelled.jsonl <<'PY'
import csv, json, sys
texts = {row["id"]: row["text"] for row in map(json.loads, open(sys.argv[2], encoding="utf-8"))}
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    text = texts[row["id"]]
    print(f"{row['id']}  {row['label']:<6} {float(row['score']):.2f}  {text[:60]}{'…' if len(text) > 60 else ''}")
PY
echo "== wrote $run/evaluate.json, $run/matrix.png and $run/predictions.csv in $(( $(date +%s) - started )) s" >&2
