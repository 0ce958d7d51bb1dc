#!/usr/bin/env bash
# Install Flint and run it on its embedded defaults: SQLite, generation events in
# memory and, unless FLINT_BASE_URL is set, the local model. This is the README's
# run command. Usage: bash scripts/run.sh [HOST:PORT]   (default 127.0.0.1:8000)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
PY=.venv/bin/python
# FLINT_BASE_URL may come from the environment or from .env (read by Flint itself).
BASE_URL="$($PY -c 'from dotenv import dotenv_values; import os; print(os.environ.get("FLINT_BASE_URL") or dotenv_values(".env").get("FLINT_BASE_URL") or "")')"
if [ -z "$BASE_URL" ]; then
  echo "==> no FLINT_BASE_URL: setting up the local model"
  VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" bash scripts/install-llama.sh
  $PY manage.py models fetch
fi
$PY manage.py migrate --no-input -v 0
# Static files the Django way: collected into var/static with hashed names, gzip and
# Brotli, served by WhiteNoise with a year of caching (docs/benchmarks.md, "First load").
# Brotli at its best quality costs about a minute of CPU (Pyodide's wasm), so the files
# are collected again only when a static source (name, size, time) or a package changed.
export FLINT_STATIC_MANIFEST=1
STAMP="$(find static -type f -printf '%p %s %T@\n' | sort | cat - <($PY -m pip freeze -q 2>/dev/null) | sha256sum | cut -c1-64)"
STAMP_FILE="$($PY manage.py shell -v 0 -c 'from django.conf import settings; print(settings.STATIC_ROOT)')/.collected"
if [ ! -f "$STAMP_FILE" ] || [ "$(cat "$STAMP_FILE")" != "$STAMP" ]; then
  echo "==> collecting static files (compressing; about a minute the first time)"
  $PY manage.py collectstatic --no-input -v 0
  echo "$STAMP" > "$STAMP_FILE"
fi
exec $PY manage.py runserver "${1:-127.0.0.1:8000}"
