#!/usr/bin/env bash
# The main job on the bundled demo: install what is needed, check the data,
# then serve the coverage map and the API on http://127.0.0.1:8000 (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/respmap validate || true
echo
echo "respmap: map  http://127.0.0.1:${RESPMAP_PORT:-8000}/map"
echo "respmap: here http://127.0.0.1:${RESPMAP_PORT:-8000}/here   (phone page)"
echo "respmap: API  http://127.0.0.1:${RESPMAP_PORT:-8000}/docs"
exec .venv/bin/respmap serve --host "${RESPMAP_HOST:-127.0.0.1}" --port "${RESPMAP_PORT:-8000}" "$@"
