#!/usr/bin/env bash
# One entry for the two jobs of a fresh machine, each setting everything up from nothing:
#   bash scripts/dev.sh lab    install, then open JupyterLab on notebooks/tour.ipynb
#   bash scripts/dev.sh test   install (with Debian's chromium for the browser tests), run all tests
# Set-up is idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

job=${1:-}
shift || true
venv=${NBDEBUG_VENV:-.venv}
python=${PYTHON:-python3}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium (for the browser tests)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

install_python() {
  if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv"
    "$python" -m venv "$venv"
  fi
  echo "== installing nbdebug and its dependencies into $venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  # the CPU build of torch first: a bare 'torch' requirement would fetch a multi-GB CUDA build
  "$venv/bin/python" -m pip install -q "torch==2.13.0"
  "$venv/bin/python" -m pip install -q -e ".[all,test]"
}

case "$job" in
  lab)
    install_python
    extra=()
    [ "$(id -u)" = 0 ] && extra+=(--allow-root)
    exec "$venv/bin/jupyter" lab "${extra[@]}" "$@" notebooks/tour.ipynb
    ;;
  test)
    install_chromium
    install_python
    exec "$venv/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: bash scripts/dev.sh lab|test [extra arguments for jupyter lab / pytest]" >&2
    exit 2
    ;;
esac
