#!/usr/bin/env bash
# Create .venv and install Flint (with dev tools when called with --dev).
# Idempotent: a second run only checks that everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
extra=""
if [ "${1:-}" = "--dev" ]; then extra="[dev]"; fi
echo "==> installing Python packages"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
