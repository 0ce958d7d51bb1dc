#!/usr/bin/env bash
# Build llama-cpp-python once for this CPU and install it into the active venv.
#
# Why a script: the default (native) llama.cpp build crashes on this machine's CPU in
# its AMX path, so it must be built with explicit CMAKE_ARGS. pip's wheel cache is keyed
# on the sdist, not on CMAKE_ARGS, so it could hand back a wheel built with other flags;
# we build with --no-cache-dir into ~/.cache/flint/wheels/<hash>/ instead, where <hash> covers the
# version, the flags and the Python/platform tag, and reuse that wheel on every rerun.
#
# Usage: . .venv/bin/activate && scripts/install-llama.sh [--force]
#   --force   rebuild the wheel even if the cached <hash>/ already holds one
# Env: LLAMA_CPP_VERSION, LLAMA_CMAKE_ARGS, FLINT_WHEEL_CACHE override the defaults below.
# The wheel cache lives outside the checkout (~/.cache/flint/wheels by default) so a
# fresh clone on the same machine, such as CI's, reuses the 5-10 minute build.
set -euo pipefail

VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
FLAGS="${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${FLINT_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flint/wheels}"
REQS="$ROOT/scripts/llama-requirements.txt"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

PY="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
PY="${PY:-python}"
if [[ -z "${VIRTUAL_ENV:-}" ]]; then
  echo "install-llama: no active venv; activate one first (. .venv/bin/activate)" >&2
  exit 2
fi

TAG="$("$PY" -c 'import sys, sysconfig; print(sys.implementation.cache_tag, sysconfig.get_platform())')"
HASH="$(printf '%s\n%s\n%s\n' "$VERSION" "$FLAGS" "$TAG" | sha256sum | cut -c1-16)"
WHEEL_DIR="$CACHE_DIR/llama-cpp-python-$HASH"
MARKER="$VIRTUAL_ENV/.flint-llama-cpp"  # records which build is installed in this venv

verify() {
  # In a subprocess: a bad build dies with SIGILL/SIGSEGV, which must not kill us silently.
  local rc=0
  "$PY" - <<'EOF' || rc=$?
import llama_cpp
llama_cpp.llama_backend_init()
info = llama_cpp.llama_print_system_info().decode()
print(f"install-llama: llama_cpp {llama_cpp.__version__} imports; {info.strip()[:160]}")
EOF
  if (( rc != 0 )); then
    if (( rc > 128 )); then
      echo "install-llama: importing llama_cpp CRASHED (signal $((rc - 128))): the build does" \
        "not fit this CPU. Check LLAMA_CMAKE_ARGS, then rerun with --force." >&2
    else
      echo "install-llama: importing llama_cpp failed (exit $rc); see the error above." >&2
    fi
    return 1
  fi
}

# Fast path: this venv already holds this exact build and it still imports.
if (( FORCE == 0 )) && [[ -f "$MARKER" ]] && [[ "$(cat "$MARKER")" == "$HASH" ]]; then
  if verify; then
    echo "install-llama: already installed (build $HASH); nothing to do."
    exit 0
  fi
  echo "install-llama: marker present but the install is broken; reinstalling." >&2
fi

WHEEL="$(ls "$WHEEL_DIR"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -1 || true)"
if (( FORCE == 1 )) || [[ -z "$WHEEL" ]]; then
  echo "install-llama: building llama-cpp-python $VERSION (build $HASH); about 5 minutes on 2 cores..."
  echo "install-llama: CMAKE_ARGS=$FLAGS"
  mkdir -p "$CACHE_DIR"
  BUILD_TMP="$(mktemp -d "$CACHE_DIR/.build-XXXXXX")"
  trap 'rm -rf "$BUILD_TMP"' EXIT
  start=$SECONDS
  CMAKE_ARGS="$FLAGS" FORCE_CMAKE=1 "$PY" -m pip wheel --no-deps --no-cache-dir \
    --no-binary llama-cpp-python -w "$BUILD_TMP" "llama-cpp-python==$VERSION"
  mkdir -p "$WHEEL_DIR"
  rm -f "$WHEEL_DIR"/*.whl
  # Move only when complete, so an interrupted build never leaves a wheel to reuse.
  mv "$BUILD_TMP"/llama_cpp_python-*.whl "$WHEEL_DIR"/
  printf 'version=%s\nflags=%s\ntag=%s\n' "$VERSION" "$FLAGS" "$TAG" > "$WHEEL_DIR/BUILD-INFO"
  echo "install-llama: built in $((SECONDS - start)) s"
  WHEEL="$(ls "$WHEEL_DIR"/llama_cpp_python-"$VERSION"-*.whl | head -1)"
else
  echo "install-llama: reusing $WHEEL"
fi

# --force-reinstall --no-deps swaps in our wheel even if pip thinks the version is there;
# the pinned runtime and server dependencies come from llama-requirements.txt.
"$PY" -m pip install --quiet --force-reinstall --no-deps "$WHEEL"
"$PY" -m pip install --quiet -r "$REQS"
verify
echo "$HASH" > "$MARKER"
echo "install-llama: installed llama-cpp-python $VERSION (build $HASH)."
