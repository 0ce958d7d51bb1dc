"""scripts/run-scaled.sh end to end: it starts nginx and N Daphne processes, and stops them all.

Run with this test's own interpreter (FLINT_TEST_PYTHON skips the install step),
a PostgreSQL database of this test's own (created here, dropped here) and Redis
database 10; the model is the scripted upstream as FLINT_BASE_URL, or, without it,
the real local model (SmolLM2-135M under llama.cpp), one server for both processes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import psutil
import psycopg
import pytest

from playground.inference.local.paths import model_path
from playground.testing.servers import REPO, flint_env, free_port, nginx_binary
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import TEST_KEY
from tests.inference.local.test_e2e_llama import MODEL, smollm2  # noqa: F401 - fixture

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


def _free_pair() -> int:
    """A free port whose next one is free too (the script's two Daphnes take both)."""
    while True:
        first = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", first + 1))
            except OSError:
                continue
        return first


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_scaled_serves_through_nginx_and_stops_everything_it_started(
    tmp_path: Path, database: str, upstream: ScriptedUpstream
) -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed: scripts/test.sh installs Debian's nginx-light")
    upstream.script(Reply(text="ok"))
    port, first = free_port(), _free_pair()
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
    with _run_scaled(tmp_path, env, port) as proc:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as resp:
            assert resp.status == 200
            assert resp.headers["Server"] == "nginx"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert _listening(first) and _listening(first + 1)
        assert not any("llama_cpp.server" in c.cmdline() for c in children)  # FLINT_BASE_URL's
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 143
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, alive
        assert not any(_listening(p) for p in (port, first, first + 1))


@contextmanager
def _run_scaled(
    tmp_path: Path, env: dict[str, str], port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """scripts/run-scaled.sh with 2 processes on ``port``, once it says it serves."""
    log_path = tmp_path / "run-scaled.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        ["bash", "scripts/run-scaled.sh", "2", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300  # the local model loads first
        while b"Flint on" not in log_path.read_bytes():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "run-scaled.sh not ready"
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # this test's own process group only
            proc.wait()
        log.close()


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama_cpp is not importable: run scripts/install-llama.sh to build it",
)
@pytest.mark.usefixtures("smollm2")
def test_without_flint_base_url_the_processes_share_one_local_model_server(
    tmp_path: Path, database: str
) -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed")
    # The script's var folder sees the model the fixture fetched (no second download).
    (tmp_path / "models").symlink_to(model_path(MODEL).parent)
    port, first, model_port = free_port(), _free_pair(), free_port()
    env = flint_env(
        tmp_path,
        FLINT_LOCAL_MODEL=MODEL,
        FLINT_LOCAL_THREADS="1",
        FLINT_MAX_TOKENS="16",
        FLINT_TEST_PYTHON=sys.executable,
        DATABASE_URL=database,
        REDIS_URL="redis://127.0.0.1:6379/10",
        SCALED_DAPHNE_PORT=str(first),
        SCALED_MODEL_PORT=str(model_port),
    )
    with _run_scaled(tmp_path, env, port) as proc:
        children = psutil.Process(proc.pid).children(recursive=True)
        llamas = [c for c in children if "llama_cpp.server" in c.cmdline()]
        daphnes = [c for c in children if "daphne" in c.cmdline()]
        assert len(llamas) == 1, [c.cmdline() for c in children]  # one copy of the model
        assert len(daphnes) == 2
        for daphne in daphnes:
            assert daphne.environ()["FLINT_BASE_URL"] == f"http://127.0.0.1:{model_port}/v1"
            assert daphne.environ()["FLINT_MODEL"] == MODEL
            assert daphne.environ()["FLINT_MAX_CONCURRENT"] == "1"
        # A real answer from the model, through nginx, on whichever process a page reaches.
        texts = asyncio.run(_ask_twice(f"http://127.0.0.1:{port}"))
        assert all(texts), texts
        after = psutil.Process(proc.pid).children(recursive=True)
        assert [c.pid for c in after if "llama_cpp.server" in c.cmdline()] == [llamas[0].pid]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 143
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, alive
        assert not _listening(model_port)


async def _ask_twice(base: str) -> list[str]:
    """Two pages open at once (nginx's least_conn spreads them), each asks the model once."""
    texts = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        socks = []
        for _ in range(2):
            async with http.get(base + "/") as resp:
                pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
            ws = await http.ws_connect(f"{base.replace('http', 'ws')}/ws/p/{pid}/", origin=base)
            assert (await ws.receive_json(timeout=10))["type"] == "session.ready"
            socks.append(ws)
        for ws in socks:
            start = {"type": "gen.start", "instruction": "Say hi.", "files": {}}
            await ws.send_str(json.dumps(start))
            parts, event = [], {"type": ""}
            while event["type"] != "gen.done":
                event = await ws.receive_json(timeout=300)
                assert event["type"] != "error" or "gen" in event, event
                if event["type"] == "gen.delta":
                    parts.append(event["text"])
            assert event["reason"] in ("stop", "length"), event
            texts.append("".join(parts))
            await ws.close()
    return texts
