#!/usr/bin/env bash
# Install everything the tests need, then run lint, types and the test suite.
# This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh --dev

# Headless Chromium for the browser tests (Debian packages; needs root, as in CI).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "==> installing chromium + chromium-driver"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

PY=.venv/bin/python
echo "==> ruff"
$PY -m ruff format --check .
$PY -m ruff check .
echo "==> mypy (strict on the pure cores)"
$PY -m mypy playground/protocol.py $(ls -d playground/edits 2>/dev/null)
echo "==> pytest"
$PY -m pytest --cov --cov-report=term --cov-fail-under="${FLINT_COVERAGE_MIN:-80}" "$@"
