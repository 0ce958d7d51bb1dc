"""The scaled set-up for real: nginx in front of two Daphne processes on PostgreSQL and Redis.

What scripts/run-scaled.sh starts, on loopback: Debian's nginx with
deploy/nginx.conf.template, two ``daphne flint.asgi:application`` processes with
FLINT_TRUSTED_PROXIES=127.0.0.1, a PostgreSQL database of this test's own
(created and dropped here) and Redis database 10 (only this test's keys are
removed). Every browser gets an address of its own on 127.0.0.0/8 (Linux answers
the whole block on loopback), so nginx sees distinct clients.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
import redis

from playground.testing.servers import (
    ServerURL,
    daphne_server,
    free_port,
    nginx_binary,
    nginx_proxy,
)
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import flint_env_for

pytestmark = pytest.mark.slow
POSTGRES = os.environ.get("FLINT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = "redis://127.0.0.1:6379/10"


class Scaled:
    def __init__(self, proxy: ServerURL, daphnes: list[ServerURL], env: dict[str, str]) -> None:
        self.proxy, self.daphnes, self.env = proxy, daphnes, env

    def socket_counts(self, path: str) -> list[int]:
        """How many sockets on ``path`` each Daphne accepted (their access logs)."""
        logs = [Path(d.log_path).with_suffix(".access.log") for d in self.daphnes]
        return [log.read_text().count(f'"WSCONNECT {path}"') for log in logs]


def _database_url(name: str) -> str:
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


@contextmanager
def scaled_setup(
    var: Path, up: ScriptedUpstream, redis_url: str = REDIS_URL, **extra: str
) -> Iterator[Scaled]:
    """nginx and two Daphne processes on a database of their own and Redis db 10
    (or ``redis_url``: the fault tests' private redis-server)."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed: scripts/test.sh installs Debian's nginx-light")
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {POSTGRES}: {exc}")
    store = redis.Redis.from_url(redis_url)
    before = set(store.keys("*"))
    name = f"flint_test_scaled_{os.getpid()}_{random.randrange(10**6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = flint_env_for(
            var,
            up,
            DATABASE_URL=_database_url(name),
            REDIS_URL=redis_url,
            FLINT_TRUSTED_PROXIES="127.0.0.1",
            **extra,
        )
        with ExitStack() as stack:
            daphnes = [stack.enter_context(daphne_server(env)) for _ in range(2)]
            ports = [int(d.rsplit(":", 1)[1]) for d in daphnes]
            proxy = stack.enter_context(nginx_proxy(var / "nginx", ports, free_port()))
            yield Scaled(proxy, daphnes, env)
    finally:
        with contextlib.suppress(redis.RedisError):  # a fault test's Redis may be down
            mine = set(store.keys("*")) - before
            if mine:
                store.delete(*mine)
        store.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def scaled(
    tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream
) -> Iterator[Scaled]:
    var = tmp_path_factory.mktemp("scaled")
    with scaled_setup(var, upstream_server, FLINT_LIMIT_GENERATIONS_IP="1 per 10 minutes") as s:
        yield s


def _address() -> str:
    """A loopback address of this browser's own (never 127.0.0.1, the trusted proxy)."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


def browser(address: str | None = None) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(local_addr=(address, 0) if address else None)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def new_playground(http: aiohttp.ClientSession, base: str, **headers: str) -> str:
    async with http.get(base + "/", headers=headers) as resp:
        assert resp.status == 200
        return str(resp.url).rstrip("/").rsplit("/", 1)[-1]


async def open_socket(http: aiohttp.ClientSession, base: str, pid: str, **headers: str) -> Any:
    ws = await http.ws_connect(
        base.replace("http", "ws") + f"/ws/p/{pid}/", origin=base, headers=headers
    )
    ready = await ws.receive_json(timeout=10)
    assert ready["type"] == "session.ready", ready
    return ws


async def start(ws: Any) -> dict[str, Any]:
    await ws.send_str(json.dumps({"type": "gen.start", "instruction": "go", "files": {}}))
    return dict(await ws.receive_json(timeout=10))


async def until_done(ws: Any, got: list[dict[str, Any]]) -> list[dict[str, Any]]:
    while not got or got[-1]["type"] != "gen.done":
        got.append(await ws.receive_json(timeout=20))
    return got


async def test_a_page_and_a_generation_through_nginx_followed_from_both_processes(
    scaled: Scaled, upstream: ScriptedUpstream
) -> None:
    text = "".join(f"t{i} " for i in range(1500))
    upstream.script(Reply(text=text, rate=500))
    async with browser(_address()) as http:
        async with http.get(scaled.proxy + "/") as resp:
            assert resp.status == 200
            assert resp.headers["Server"] == "nginx"  # the page came through the proxy
            page = await resp.text()
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        static = re.search(r'(/static/[^"\']+\.js)', page)
        assert static, "the page loads a script"
        async with http.get(scaled.proxy + static.group(1)) as resp:
            assert resp.status == 200  # static files pass through to WhiteNoise
        ws = await open_socket(http, scaled.proxy, pid)  # upgraded through nginx
        got = [await start(ws)]
        assert got[0]["type"] == "gen.started", got[0]
        gen = got[0]["gen"]
        # One follower on each Daphne: whichever nginx chose, one is the other process.
        followers = []
        for daphne in scaled.daphnes:
            follower = await open_socket(http, daphne, pid)
            await follower.send_str(json.dumps({"type": "gen.resume", "gen": gen, "after": 0}))
            followers.append(follower)
        await until_done(ws, got)
        seen = [await until_done(f, []) for f in followers]
        for sock in (ws, *followers):
            await sock.close()
    deltas = "".join(e["text"] for e in got if e["type"] == "gen.delta")
    assert deltas == text
    assert [e["seq"] for e in got] == list(range(1, len(got) + 1))
    for events in seen:
        assert [e["seq"] for e in events] == [e["seq"] for e in got]  # no gap, no duplicate
        assert "".join(e["text"] for e in events if e["type"] == "gen.delta") == text
    access = (Path(scaled.proxy.log_path).parent / "access.log").read_text()
    assert f"/ws/p/{pid}/" in access


async def _gen_start(base: str, address: str, **headers: str) -> dict[str, Any]:
    """A new browser at ``address`` asks once; the first answer to gen.start."""
    async with browser(address) as http:
        pid = await new_playground(http, base, **headers)
        ws = await open_socket(http, base, pid, **headers)
        first = await start(ws)
        if first["type"] == "gen.started":
            await until_done(ws, [first])
        await ws.close()
        return first


async def test_the_per_ip_limit_keys_on_the_client_nginx_forwards_and_cannot_be_spoofed(
    scaled: Scaled, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(text="ok"))
    a, b, fake = _address(), _address(), _address()
    # The limit is 1 generation per address: a first browser at A gets it...
    assert (await _gen_start(scaled.proxy, a))["type"] == "gen.started"
    # ...a second browser at A (another owner cookie) is refused for A's address...
    refused = await _gen_start(scaled.proxy, a)
    assert refused["code"] == "rate.limited", refused
    assert "network address" in refused["message"], refused  # the IP limit, not the browser
    # ...while a browser at B, behind the same proxy, is counted on its own.
    assert (await _gen_start(scaled.proxy, b))["type"] == "gen.started"
    # A writing another address in X-Forwarded-For: nginx overwrites it...
    spoofed = await _gen_start(scaled.proxy, a, **{"X-Forwarded-For": fake})
    assert spoofed["code"] == "rate.limited", spoofed
    # ...and a Daphne reached directly does not believe it from A (not a proxy).
    direct = await _gen_start(scaled.daphnes[0], a, **{"X-Forwarded-For": fake})
    assert direct["code"] == "rate.limited", direct


def _owner_cookie(set_cookies: list[str]) -> str:
    found = [c for c in set_cookies if "HttpOnly" in c]
    assert found, set_cookies
    return found[0]


async def _cookies(base: str, address: str | None, **headers: str) -> list[str]:
    async with (
        browser(address) as http,
        http.get(base + "/", headers=headers, allow_redirects=False) as resp,
    ):
        assert resp.status in (200, 302), resp.status
        return resp.headers.getall("Set-Cookie", [])


async def test_x_forwarded_proto_https_from_the_proxy_makes_cookies_secure(scaled: Scaled) -> None:
    https = {"X-Forwarded-Proto": "https"}
    # From the trusted proxy's address (what a TLS-terminating proxy sends):
    trusted = _owner_cookie(await _cookies(scaled.daphnes[1], None, **https))
    assert "Secure" in trusted
    # From anyone else talking to Daphne directly: ignored.
    assert "Secure" not in _owner_cookie(await _cookies(scaled.daphnes[1], _address(), **https))
    # Through nginx on plain http: nginx says http, whatever the browser wrote.
    assert "Secure" not in _owner_cookie(await _cookies(scaled.proxy, _address(), **https))
