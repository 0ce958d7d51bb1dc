#!/usr/bin/env bash
# The scaled set-up as one command: N Daphne processes on PostgreSQL and Redis behind
# nginx (deploy/nginx.conf.template). README "Scaling out".
# Usage: bash scripts/run-scaled.sh [N] [HOST:PORT]   (default 2 processes, 127.0.0.1:8000)
#
# nginx listens on HOST:PORT; the Daphne processes on 127.0.0.1:PORT+1 ... PORT+N
# (SCALED_DAPHNE_PORT sets the first). The model: FLINT_BASE_URL if set, else ONE
# local model server for all of them (`manage.py models serve` on 127.0.0.1:PORT+N+1,
# SCALED_MODEL_PORT; one copy of the model in memory). PostgreSQL (DATABASE_URL,
# default postgres://postgres@127.0.0.1:5432/flint, created if missing) and Redis
# (REDIS_URL, default redis://127.0.0.1:6379/0).
# Ctrl-C (or TERM) stops every process this script started, and only those.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-2}"
LISTEN="${2:-127.0.0.1:8000}"
case "$N" in '' | *[!0-9]* | 0) echo "N must be a positive number, got '$N'" >&2; exit 2 ;; esac
PORT="${LISTEN##*:}"
HOST="${LISTEN%:*}"
case "$PORT" in '' | *[!0-9]*) echo "HOST:PORT expected, got '$LISTEN'" >&2; exit 2 ;; esac
[ "$HOST" != "$LISTEN" ] || HOST=127.0.0.1
case "$HOST" in 0.0.0.0 | '[::]') PROBE=127.0.0.1 ;; *) PROBE="$HOST" ;; esac
FIRST="${SCALED_DAPHNE_PORT:-$((PORT + 1))}"

# FLINT_TEST_PYTHON: the tests run this script with their own installed Flint.
if [ -n "${FLINT_TEST_PYTHON:-}" ]; then
  PY="$FLINT_TEST_PYTHON"
else
  bash scripts/bootstrap.sh
  PY=.venv/bin/python
fi
NGINX="$(command -v nginx || true)"
[ -n "$NGINX" ] || { [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx; } || true
if [ -z "$NGINX" ]; then
  echo "nginx is not installed: apt-get install -y nginx-light (Debian's; only its binary is used)" >&2
  exit 1
fi

# Settings may come from the environment or from .env (read by Flint itself).
setting() { $PY -c 'import os, sys; from dotenv import dotenv_values; n = sys.argv[1]; print(os.environ.get(n) or dotenv_values(".env").get(n) or sys.argv[2])' "$1" "${2:-}"; }
SHARED_MODEL=0
if [ -z "$(setting FLINT_BASE_URL)" ]; then
  SHARED_MODEL=1
  if [ -z "${FLINT_TEST_PYTHON:-}" ]; then
    echo "==> no FLINT_BASE_URL: setting up the local model, one server for every process"
    VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" bash scripts/install-llama.sh
    $PY manage.py models fetch
  fi
fi
export DATABASE_URL REDIS_URL
DATABASE_URL="$(setting DATABASE_URL postgres://postgres@127.0.0.1:5432/flint)"
REDIS_URL="$(setting REDIS_URL redis://127.0.0.1:6379/0)"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) echo "DATABASE_URL must be PostgreSQL (several processes on one SQLite file would wait on each other's writes)" >&2; exit 1 ;;
esac
# nginx is the only peer whose X-Forwarded-For/-Proto Flint believes (flint/proxy.py).
export FLINT_TRUSTED_PROXIES="${FLINT_TRUSTED_PROXIES:-127.0.0.1}"

echo "==> PostgreSQL: the database of DATABASE_URL, created if missing"
$PY - <<'PY'
import os
import psycopg
from psycopg import sql
from urllib.parse import urlsplit
url = urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/") or "postgres"
admin = url._replace(path="/postgres").geturl()
with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"    created database {name}")
PY
$PY manage.py migrate --no-input -v 0
# Static files collected once for every process (hashed names, compressed), served by
# WhiteNoise in each (scripts/run.sh does the same).
export FLINT_STATIC_MANIFEST=1
$PY manage.py collectstatic --no-input -v 0

# Every open page is a descriptor in nginx (two) and in a Daphne; a soft limit of
# 1024 would refuse the 1,000th socket. Up to the hard limit, for every child.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

VAR="${FLINT_VAR_DIR:-var}"
RUN="$VAR/scaled"
mkdir -p "$RUN"
PIDS=()
stop() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

wait_http() {  # URL PID [SECONDS]
  $PY - "$1" "$2" "${3:-60}" <<'PY'
import os, sys, time, urllib.request
url, pid, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"{url}: the process exited (see its log)")
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            if resp.status == 200:
                sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(f"{url}: not ready after {limit:.0f} s")
PY
}

if [ "$SHARED_MODEL" = 1 ]; then
  # One llama.cpp server for the machine: N processes each loading the model would
  # hold N copies in RAM and run N decodes on the same cores. Each process reaches it
  # as an OpenAI-compatible endpoint with the local model's settings, one generation
  # at a time across all of them (the cap and its line live in Redis).
  MPORT="${SCALED_MODEL_PORT:-$((FIRST + N))}"
  rm -f "$RUN/model.env"
  $PY manage.py models serve --port "$MPORT" --env-file "$RUN/model.env" 2>"$RUN/model-$MPORT.log" &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$MPORT/v1/models" "${PIDS[-1]}" "$(setting FLINT_LOCAL_LOAD_TIMEOUT 600)"
  while [ ! -s "$RUN/model.env" ]; do kill -0 "${PIDS[-1]}" || exit 1; sleep 0.1; done
  set -a; . "$RUN/model.env"; set +a
  echo "==> one local model server ($FLINT_MODEL) on 127.0.0.1:$MPORT for every process (log: $RUN/model-$MPORT.log)"
fi

PORTS=()
for i in $(seq 0 $((N - 1))); do
  p=$((FIRST + i))
  $PY -m daphne -b 127.0.0.1 -p "$p" flint.asgi:application 2>"$RUN/daphne-$p.log" &
  PIDS+=($!)
  PORTS+=("$p")
done
for i in "${!PORTS[@]}"; do wait_http "http://127.0.0.1:${PORTS[$i]}/healthz" "${PIDS[$i]}"; done
echo "==> $N Daphne processes on 127.0.0.1:${PORTS[0]}-${PORTS[-1]} (logs in $RUN)"

CONF="$($PY -m flint.deploy "$RUN/nginx" "$HOST:$PORT" "${PORTS[@]}")"
"$NGINX" -p "$RUN/nginx" -c "$CONF" -e "$RUN/nginx/error.log" -g 'daemon off;' &
PIDS+=($!)
wait_http "http://$PROBE:$PORT/healthz" "${PIDS[-1]}"
echo "==> Flint on http://$LISTEN (nginx; Ctrl-C stops everything)"
# Whichever child ends first (a crash, or a kill by hand) ends the whole set-up.
set +e
wait -n "${PIDS[@]}"
status=$?
echo "a process of the set-up exited ($status): stopping the others" >&2
exit "$status"
