"""The whole server as a real Daphne process, driven by a real WebSocket client."""

from __future__ import annotations

import json

import aiohttp
import pytest

from playground.testing.servers import daphne_server
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import flint_env_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def flint_url(tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream):
    env = flint_env_for(tmp_path_factory.mktemp("var"), upstream_server)
    with daphne_server(env) as url:
        yield url


async def test_a_real_daphne_serves_the_page_and_streams_over_one_socket(
    flint_url: str, upstream: ScriptedUpstream
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(flint_url + "/") as resp:
            assert resp.status == 200
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        ws_url = flint_url.replace("http", "ws") + f"/ws/p/{pid}/"
        async with http.ws_connect(ws_url, origin=flint_url) as ws:
            assert (await ws.receive_json())["type"] == "session.ready"
            for n in range(2):
                upstream.script(Reply(text=f"streamed answer {n}", rate=1000))
                await ws.send_str(
                    json.dumps(
                        {"type": "gen.start", "instruction": "go", "files": {"a.py": "x = 1\n"}}
                    )
                )
                text = ""
                while (msg := await ws.receive_json(timeout=10))["type"] != "gen.done":
                    text += msg.get("text", "") if msg["type"] == "gen.delta" else ""
                assert text == f"streamed answer {n}"
                assert msg["reason"] == "stop"


async def test_a_real_daphne_refuses_a_foreign_origin(flint_url: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(
                flint_url.replace("http", "ws") + "/ws/p/x/", origin="http://evil.example"
            )
        assert info.value.status == 403
