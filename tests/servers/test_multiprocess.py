"""Two real Daphne processes sharing Redis: a generation follows the user across them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import aiohttp
import pytest
import redis

from playground.testing.servers import daphne_server
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import flint_env_for

pytestmark = pytest.mark.slow
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(scope="module")
def two_servers(
    tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream
) -> Iterator[tuple[str, str]]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = flint_env_for(tmp_path_factory.mktemp("multi"), upstream_server, REDIS_URL=REDIS_URL)
    with ExitStack() as stack:
        a = stack.enter_context(daphne_server(env))
        b = stack.enter_context(daphne_server(env))
        yield a, b


async def open_socket(http: aiohttp.ClientSession, base: str, pid: str) -> Any:
    ws = await http.ws_connect(base.replace("http", "ws") + f"/ws/p/{pid}/", origin=base)
    ready = await ws.receive_json()
    assert ready["type"] == "session.ready"
    return ws, ready


async def test_a_generation_started_on_one_process_is_resumed_on_another(
    two_servers: tuple[str, str], upstream: ScriptedUpstream
) -> None:
    a, b = two_servers
    text = "".join(f"t{i} " for i in range(3000))
    upstream.script(Reply(text=text, rate=500))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(a + "/") as resp:
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        ws, _ = await open_socket(http, a, pid)
        await ws.send_str(json.dumps({"type": "gen.start", "instruction": "go", "files": {}}))
        got = [await ws.receive_json() for _ in range(5)]
        await ws.close()
        ws, ready = await open_socket(http, b, pid)
        assert ready["running"] == got[0]["gen"], "process B knows what runs on A"
        await ws.send_str(
            json.dumps({"type": "gen.resume", "gen": got[0]["gen"], "after": got[-1]["seq"]})
        )
        while got[-1]["type"] != "gen.done":
            got.append(await ws.receive_json(timeout=20))
        await ws.close()
    assert [e["seq"] for e in got] == list(range(1, len(got) + 1))
    assert "".join(e["text"] for e in got if e["type"] == "gen.delta") == text


async def test_stop_sent_to_another_process_stops_the_generation(
    two_servers: tuple[str, str], upstream: ScriptedUpstream
) -> None:
    a, b = two_servers
    upstream.script(Reply(lorem=100_000, rate=1000))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(a + "/") as resp:
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        wa, _ = await open_socket(http, a, pid)
        await wa.send_str(json.dumps({"type": "gen.start", "instruction": "go", "files": {}}))
        started = await wa.receive_json()
        while (await wa.receive_json())["type"] != "gen.delta":
            pass  # the upstream is streaming now
        wb, _ = await open_socket(http, b, pid)
        await wb.send_str(json.dumps({"type": "gen.resume", "gen": started["gen"], "after": 0}))
        await wb.send_str(json.dumps({"type": "gen.stop", "gen": started["gen"]}))
        while (msg := await wb.receive_json(timeout=10))["type"] != "gen.done":
            pass
        assert msg["reason"] == "stopped"
        await wa.close()
        await wb.close()
    upstream.wait_idle()
    assert upstream.streams[-1].client_disconnected


async def test_a_model_chosen_on_one_process_answers_on_another(
    two_servers: tuple[str, str], upstream: ScriptedUpstream
) -> None:
    # Process B's socket has checked its owner already (cached); the choice is made on
    # A. B's next gen.start re-reads the row (the access stamp moved, in Redis) and
    # asks the chosen model.
    a, b = two_servers
    upstream.configure(models=["gpt-test", "gpt-other"])
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(a + "/") as resp:
                pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
            on_b, _ = await open_socket(http, b, pid)
            start = json.dumps({"type": "gen.start", "instruction": "go", "files": {}})
            upstream.script(Reply(text="first"))
            await on_b.send_str(start)
            while (msg := await on_b.receive_json(timeout=20))["type"] != "gen.done":
                pass
            assert upstream.streams[-1].model == "gpt-test"
            on_a, _ = await open_socket(http, a, pid)
            await on_a.send_str(json.dumps({"type": "model.select", "model": "endpoint:gpt-other"}))
            while (msg := await on_a.receive_json(timeout=20))["type"] != "model.selected":
                assert msg["type"] != "error", msg
            upstream.script(Reply(text="second"))
            await on_b.send_str(start)
            started = await on_b.receive_json(timeout=20)
            while started["type"] != "gen.started":
                started = await on_b.receive_json(timeout=20)
            assert started["model"] == "gpt-other"
            while (msg := await on_b.receive_json(timeout=20))["type"] != "gen.done":
                pass
            assert upstream.streams[-1].model == "gpt-other"
            await on_a.close()
            await on_b.close()
    finally:
        upstream.configure(models=["gpt-test"])


async def _next(ws: Any, kind: str) -> dict[str, Any]:
    while (msg := await ws.receive_json(timeout=10))["type"] != kind:
        pass
    return msg


async def test_viewers_on_either_process_see_every_change_in_order_and_one_count(
    two_servers: tuple[str, str], upstream: ScriptedUpstream
) -> None:
    a, b = two_servers
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as owner:
        async with owner.get(a + "/") as resp:
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        async with owner.post(a + f"/api/p/{pid}/present", json={}) as resp:
            assert resp.status == 201
            link = await resp.json()
        ws, _ = await open_socket(owner, a, pid)
        await ws.send_str(json.dumps({"type": "live.push", "base": 0, "files": {"a.js": ""}}))
        version = (await _next(ws, "live.pushed"))["version"]
        async with aiohttp.ClientSession() as others:
            viewers = []
            for base in (b, b, a):  # two on the other process, one on the presenter's
                v = await others.ws_connect(
                    base.replace("http", "ws") + f"/ws/live/{link['id']}/", origin=base
                )
                assert (await v.receive_json())["role"] == "viewer"
                state = await _next(v, "live.state")
                assert state["files"] == {"a.js": ""} and state["version"] == version
                viewers.append(v)
            counts = []
            while not counts or counts[-1] != 3:
                counts.append((await _next(ws, "live.viewers"))["count"])
            typed = ""
            for ch in "hello":
                change = {"path": "a.js", "from": len(typed), "to": len(typed), "insert": ch}
                await ws.send_str(
                    json.dumps({"type": "live.push", "base": version, "changes": [change]})
                )
                version = (await _next(ws, "live.pushed"))["version"]
                typed += ch
            # A generation the presenter starts on A is announced to viewers on B.
            upstream.script(Reply(text="ok", rate=1000))
            await ws.send_str(json.dumps({"type": "gen.start", "instruction": "go", "files": {}}))
            for v in viewers:
                seen, text = version - 5, ""
                while seen < version:
                    update = await _next(v, "live.update")
                    assert update["version"] == seen + 1, "in order, none missed or repeated"
                    seen = update["version"]
                    text += "".join(c["insert"] for c in update["changes"])
                assert text == typed
                announced = await _next(v, "live.gen")
                assert announced["instruction"] == "go" and announced["version"] == version + 1
            async with owner.post(a + f"/api/p/{pid}/present/end", json={}) as resp:
                assert resp.status == 200
            for v in viewers:
                await _next(v, "live.ended")
                await v.close()
        await ws.close()
    async with aiohttp.ClientSession() as late, late.get(b + f"/live/{link['id']}/") as resp:
        assert resp.status == 200 and "hello" in await resp.text()


async def test_a_turn_sent_the_moment_the_last_one_is_done_is_not_refused_as_busy(
    two_servers: tuple[str, str], upstream: ScriptedUpstream
) -> None:
    # The playground's claim (in Redis) used to be released after gen.done had gone
    # out: a page that asked again at once raced it and got gen.busy.
    a, _ = two_servers
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(a + "/") as resp:
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        ws, _ = await open_socket(http, a, pid)
        refused = 0
        for _ in range(20):
            upstream.script(Reply(text="ok"))
            await ws.send_str(json.dumps({"type": "gen.start", "instruction": "go", "files": {}}))
            while (msg := await ws.receive_json(timeout=10))["type"] != "gen.done":
                refused += msg["type"] == "error" and msg["code"] == "gen.busy"
                if msg["type"] == "error" and "gen" not in msg:
                    break
        await ws.close()
    assert refused == 0


async def test_viewers_whose_connections_drop_leave_the_count(
    two_servers: tuple[str, str],
) -> None:
    # No close frame: the viewers' TCP connections are cut (a laptop lid, a lost
    # network); each process notices its own and the count across both drops.
    a, b = two_servers
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as owner:
        async with owner.get(a + "/") as resp:
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        async with owner.post(a + f"/api/p/{pid}/present", json={}) as resp:
            link = await resp.json()
        ws, _ = await open_socket(owner, a, pid)
        await ws.send_str(json.dumps({"type": "live.push", "base": 0, "files": {"a.js": ""}}))
        await _next(ws, "live.pushed")
        sessions = [aiohttp.ClientSession() for _ in range(4)]
        try:
            viewers = []
            for http, base in zip(sessions, (a, b, b, a), strict=True):
                v = await http.ws_connect(
                    base.replace("http", "ws") + f"/ws/live/{link['id']}/", origin=base
                )
                await _next(v, "live.state")
                viewers.append(v)
            while (await _next(ws, "live.viewers"))["count"] != 4:
                pass
            for v in viewers[:3]:  # one on A, two on B: their connections are cut
                v._conn.transport.abort()
            while (await _next(ws, "live.viewers"))["count"] != 1:
                pass
            async with owner.post(a + f"/api/p/{pid}/present", json={}) as resp:
                assert (await resp.json())["viewers"] == 1
        finally:
            for http in sessions:
                await http.close()
        await ws.close()
