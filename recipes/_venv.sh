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
