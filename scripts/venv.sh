# Sourced by the scripts at the top level: make .venv with the project installed, once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AGENT_UPLOADER_VENV:-$ROOT/.venv}"
stamp="$VENV/.installed-$1"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  if [ "$1" = "test" ]; then
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]" >&2
  else
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT" >&2
  fi
  touch "$stamp"
fi
