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
# Static files the Django way: collected into var/static with hashed names and gzip,
# served by WhiteNoise with a year of caching (docs/benchmarks.md, "First load").
export FLINT_STATIC_MANIFEST=1
$PY manage.py collectstatic --no-input -v 0
exec $PY manage.py runserver "${1:-127.0.0.1:8000}"
