#!/usr/bin/env bash
# Install everything the tests need, then run lint, types and the test suite.
# This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh --dev
# llama.cpp for the local-model tests: built once per machine for this CPU (the
# wheel is cached outside the checkout), then a few seconds per run.
VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" bash scripts/install-llama.sh

# Headless Chromium for the browser tests (Debian packages; needs root, as in CI).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "==> installing chromium + chromium-driver"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# nginx for the scaled set-up's tests (tests/servers/test_scaled.py): only its binary
# is used, run on loopback with its own config under the test's folder.
if [ ! -x /usr/sbin/nginx ]; then
  echo "==> installing nginx-light"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi

PY=.venv/bin/python
echo "==> front end: node --test on the pure modules"
if command -v node >/dev/null && command -v npm >/dev/null; then
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm test)
else
  echo "node/npm not found: the front-end unit tests need Node 20+" >&2
  exit 1
fi
echo "==> ruff"
$PY -m ruff format --check .
$PY -m ruff check .
echo "==> mypy (the whole package; strict on the pure cores and the generation's hot path)"
$PY -m mypy playground flint
echo "==> migrations match the models"
$PY manage.py makemigrations --check --dry-run
echo "==> pytest (SQLite, the default)"
$PY -m pytest --cov --cov-report=term --cov-fail-under="${FLINT_COVERAGE_MIN:-90}" "$@"

# The persistence and socket paths again on PostgreSQL (running on this machine;
# Django's test runner creates and drops its own test database).
if [ $# -eq 0 ]; then
  echo "==> pytest (PostgreSQL)"
  DATABASE_URL="${FLINT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
    $PY -m pytest -q -p no:cacheprovider \
    tests/persistence tests/web tests/socket tests/generations/test_steer_resume.py
fi
