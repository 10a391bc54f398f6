#!/usr/bin/env bash
# Set up (first run only) and run agent-uploader, e.g.:  ./agent-uploader.sh watch --file F
source "$(dirname "$0")/scripts/venv.sh" run
exec "$VENV/bin/agent-uploader" "$@"
