#!/usr/bin/env bash
# The whole test suite: install what the tests drive (Chromium, GDAL, fonts,
# Leaflet assets), lint, then run pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check geo api maps cases bench layers tests
.venv/bin/ruff format --check geo api maps cases bench layers tests
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
