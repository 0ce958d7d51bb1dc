"""scripts/run-scaled.sh end to end: it starts nginx and N Daphne processes, and stops them all.

Run with this test's own interpreter (FLINT_TEST_PYTHON skips the install step),
the scripted upstream as FLINT_BASE_URL, a PostgreSQL database of this test's own
(created here, dropped here) and Redis database 10.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from playground.testing.servers import REPO, flint_env, free_port, nginx_binary
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.slow
POSTGRES = os.environ.get("FLINT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def database() -> Iterator[str]:
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {POSTGRES}: {exc}")
    name = f"flint_test_run_scaled_{os.getpid()}"
    # The script creates it (as it would `flint`): this test only drops its own.
    try:
        yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_scaled_serves_through_nginx_and_stops_everything_it_started(
    tmp_path: Path, database: str, upstream: ScriptedUpstream
) -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed: scripts/test.sh installs Debian's nginx-light")
    upstream.script(Reply(text="ok"))
    port, first = free_port(), free_port()
    env = flint_env(
        tmp_path,
        FLINT_BASE_URL=upstream.base_url,
        FLINT_API_KEY=TEST_KEY,
        FLINT_MODEL="gpt-test",
        FLINT_TEST_PYTHON=sys.executable,
        DATABASE_URL=database,
        REDIS_URL="redis://127.0.0.1:6379/10",
        SCALED_DAPHNE_PORT=str(first),
    )
    log = (tmp_path / "run-scaled.log").open("wb")
    proc = subprocess.Popen(
        ["bash", "scripts/run-scaled.sh", "2", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while b"Flint on" not in (tmp_path / "run-scaled.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "run-scaled.log").read_text()
            assert time.monotonic() < deadline, "run-scaled.sh not ready"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as resp:
            assert resp.status == 200
            assert resp.headers["Server"] == "nginx"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert _listening(first) and _listening(first + 1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 143
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, alive
        assert not any(_listening(p) for p in (port, first, first + 1))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # this test's own process group only
            proc.wait()
        log.close()


def test_run_scaled_refuses_to_start_without_a_shared_model_server(tmp_path: Path) -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed")
    env = flint_env(tmp_path, FLINT_TEST_PYTHON=sys.executable)
    result = subprocess.run(
        ["bash", "scripts/run-scaled.sh", "2", f"127.0.0.1:{free_port()}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "FLINT_BASE_URL is not set" in result.stderr
