#!/usr/bin/env bash
# Install everything respmap needs into this checkout, idempotently.
#
#   bash scripts/setup.sh          # to run the demo: fonts, venv, Leaflet assets
#   bash scripts/setup.sh --test   # also what the tests drive: Chromium, GDAL, wrk, PostgreSQL + PostGIS
#
# Debian packages are installed with apt-get when missing (as root, or via sudo);
# Python packages go into .venv; Leaflet and its plugins come from npm into
# maps/node_modules. Nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=demo
[[ "${1:-}" == "--test" ]] && profile=test

debs=(fonts-noto-cjk)
# The case store's tests run on SQLite and on a throw-away PostgreSQL cluster they start themselves.
[[ "$profile" == test ]] && debs+=(chromium gdal-bin wrk postgresql postgresql-postgis)
command -v npm >/dev/null 2>&1 || debs+=(nodejs npm)

missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.respmap-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp || "$profile" == test && ! -f $stamp.test ]]; then
  echo "setup: installing Python packages into .venv"
  target=.
  [[ "$profile" == test ]] && target='.[test]'
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e "$target"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "setup: pip install failed; the full log is $log" >&2
    exit 1
  fi
  [[ "$profile" == test ]] && touch "$stamp.test"
  touch "$stamp"
fi

if [[ -f maps/package.json && ( ! -d maps/node_modules || maps/package-lock.json -nt maps/node_modules ) ]]; then
  echo "setup: installing Leaflet and plugins from npm into maps/node_modules"
  npm ci --prefix maps --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  touch maps/node_modules
fi
echo "setup: done ($profile)"
