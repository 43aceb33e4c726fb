#!/usr/bin/env bash
# The main job on the bundled demo: install what is needed, check the data,
# then serve the coverage map and the API on http://127.0.0.1:8000 (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/respmap validate || true
# The case loop's demo: an empty store gets a few months of synthetic cases once (deterministic),
# so that /dashboard, the bulletin and the map's cases layer show something on a fresh clone.
if [[ -z "${RESPMAP_DATABASE_URL:-}" && -z "${RESPMAP_DATASET:-}" ]] \
    && .venv/bin/respmap cases list --json 2>/dev/null | grep -q '"total": 0'; then
  echo "demo: filling the case store with ${RESPMAP_DEMO_CASES:-600} synthetic cases (once, about half a minute)"
  cases_dir=$(mktemp -d)
  .venv/bin/python layers/generate_demo.py --cases "${RESPMAP_DEMO_CASES:-600}" --cases-out "$cases_dir" --out "$cases_dir/dataset" >/dev/null
  .venv/bin/python layers/generate_demo.py --replay-cases "$cases_dir" --out layers/ankang | tail -n 1
  rm -rf "$cases_dir"
fi
echo
echo "respmap: map  http://127.0.0.1:${RESPMAP_PORT:-8000}/map"
echo "respmap: here http://127.0.0.1:${RESPMAP_PORT:-8000}/here   (phone page)"
echo "respmap: API  http://127.0.0.1:${RESPMAP_PORT:-8000}/docs"
echo "respmap: home http://127.0.0.1:${RESPMAP_PORT:-8000}/   (front page; the office's /dashboard needs a token:"
echo "         .venv/bin/respmap users add 办公室 --role admin   then sign in at /login)"
exec .venv/bin/respmap serve --host "${RESPMAP_HOST:-127.0.0.1}" --port "${RESPMAP_PORT:-8000}" "$@"
