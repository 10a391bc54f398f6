#!/usr/bin/env bash
# Set up (first run only) and run every check: ruff, mypy and the whole pytest suite.
source "$(dirname "$0")/scripts/venv.sh" test
cd "$ROOT"
"$VENV/bin/ruff" format --check uploader ui tests bench
"$VENV/bin/ruff" check uploader ui tests bench
"$VENV/bin/mypy"
exec "$VENV/bin/pytest" "$@"
