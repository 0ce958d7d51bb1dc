"""Issue #12 attacks, made against a real Daphne process over loopback.

Memory is read from the server process itself: VmHWM in /proc (the peak
resident size so far, which only grows), so a transient spike is caught even
if it is freed before the reading. psutil gives the current size beside it.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from playground import limits
from playground.testing.servers import ServerURL, daphne_server
from playground.testing.upstream import Fail, Reply, ScriptedUpstream
from tests.conftest import TEST_KEY, flint_env_for

pytestmark = pytest.mark.slow
DATA = Path(__file__).parents[1] / "data"
MIB = 1024 * 1024
RATE = 30  # messages per socket per minute on this server (the flood test)


@pytest.fixture(scope="module")
def flint(
    tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream
) -> Iterator[ServerURL]:
    env = flint_env_for(
        tmp_path_factory.mktemp("hardening"),
        upstream_server,
        FLINT_RATE_MESSAGES=str(RATE),
        FLINT_RATE_WINDOW="60",
        FLINT_REQUEST_TIMEOUT="2",
    )
    with daphne_server(env) as url:
        yield url


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return psutil.Process(pid).memory_info().rss  # not Linux: the current size


async def new_playground(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(base + "/") as resp:
        assert resp.status == 200
        return str(resp.url).rstrip("/").rsplit("/", 1)[-1]


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def raw_request(
    base: str, head: bytes, body_size: int = 0, *, chunked: bool = False, wait: float = 20
) -> bytes:
    """Send ``head`` and then up to ``body_size`` bytes of body; return what came back.

    Sends the body 1 MiB at a time and stops as soon as the server answers or
    hangs up, like a client that watches for an early 413.
    """
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head)
    answer = b""
    sent = 0
    block = b"x" * MIB
    try:
        while sent < body_size:
            data = block if not chunked else b"%x\r\n" % len(block) + block + b"\r\n"
            writer.write(data)
            await writer.drain()
            sent += len(block)
            try:
                answer = await asyncio.wait_for(reader.read(65536), 0.001)
                if answer or reader.at_eof():
                    break
            except TimeoutError:
                pass
        if chunked and sent >= body_size:
            writer.write(b"0\r\n\r\n")
        if not answer:
            answer = await asyncio.wait_for(reader.read(65536), wait)
    except (ConnectionError, OSError):
        pass  # the server hung up on the rest of the body
    finally:
        writer.close()
    return answer


async def import_form(http: aiohttp.ClientSession, base: str) -> aiohttp.FormData:
    """The import form as anyone gets it, with no login: its CSRF token filled in."""
    async with http.get(base + "/import") as resp:
        html = await resp.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    form = aiohttp.FormData()
    form.add_field("csrfmiddlewaretoken", token.group(1))
    return form


# --- 2: zip bombs at /import ----------------------------------------------------------


@pytest.mark.parametrize("name", ["bomb-bzip2.zip", "bomb-lzma.zip"])
async def test_a_zip_bomb_posted_to_import_does_not_inflate(flint: ServerURL, name: str) -> None:
    bomb = (DATA / name).read_bytes()
    before = peak_rss(flint.pid)
    async with session() as http:
        form = await import_form(http, flint)
        form.add_field("files", io.BytesIO(bomb), filename="project.zip")
        async with http.post(
            flint + "/import", data=form, headers={"Accept": "application/json"}
        ) as resp:
            body = await resp.json()
    grew = peak_rss(flint.pid) - before
    print(f"{name}: {len(bomb)} bytes posted, peak RSS +{grew / MIB:.1f} MiB")
    assert resp.status == 400 and body["code"] == "import.rejected"
    assert "only stored and deflate" in body["message"]
    assert grew < 40 * MIB, f"peak RSS grew {grew / MIB:.0f} MiB"


# --- 3: request bodies are bounded before they are buffered ----------------------------


def multipart_head(path: str, size: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("path", ["/nowhere/404", "/import", "/api/p/x/files"])
async def test_a_100_mb_post_is_refused_before_it_is_buffered(flint: ServerURL, path: str) -> None:
    size = 100 * MIB
    before = peak_rss(flint.pid)
    t0 = time.monotonic()
    answer = await raw_request(flint, multipart_head(path, size), size)
    grew = peak_rss(flint.pid) - before
    print(
        f"{path}: 100 MiB multipart, peak RSS +{grew / MIB:.1f} MiB, {time.monotonic() - t0:.2f}s"
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    err = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert err["type"] == "error" and err["code"].endswith(".too_large")
    assert err["detail"]["limit"] == (
        limits.MAX_IMPORT_BYTES if path == "/import" else limits.MAX_REQUEST_BODY_BYTES
    )
    assert grew < 20 * MIB, f"peak RSS grew {grew / MIB:.0f} MiB"


async def test_a_chunked_body_is_counted_and_cut_off(flint: ServerURL) -> None:
    head = (
        b"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    before = peak_rss(flint.pid)
    answer = await raw_request(flint, head, 100 * MIB, chunked=True)
    grew = peak_rss(flint.pid) - before
    print(f"chunked 100 MiB: peak RSS +{grew / MIB:.1f} MiB")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert grew < 20 * MIB, f"peak RSS grew {grew / MIB:.0f} MiB"


async def test_an_import_just_over_its_limit_says_so(flint: ServerURL) -> None:
    async with session() as http:
        form = await import_form(http, flint)
        blob = b"PK\x03\x04" + b"\0" * limits.MAX_IMPORT_BYTES
        form.add_field("files", io.BytesIO(blob), filename="p.zip")
        async with http.post(
            flint + "/import", data=form, headers={"Accept": "application/json"}
        ) as resp:
            assert resp.status == 413
            assert (await resp.json())["code"] == "import.too_large"


# --- hardening: a half-sent request is closed ---------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",  # headers never finish
        b"POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nabc",  # body
    ],
    ids=["headers", "body"],
)
async def test_a_half_sent_request_is_closed_after_the_timeout(
    flint: ServerURL, head: bytes
) -> None:
    t0 = time.monotonic()
    answer = await raw_request(flint, head, wait=10)
    took = time.monotonic() - t0
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 1.5 < took < 6, f"closed after {took:.1f}s (FLINT_REQUEST_TIMEOUT=2)"


# --- 7: the Origin check compares scheme, host and port ----------------------------------


async def test_only_the_exact_origin_opens_the_socket(flint: ServerURL) -> None:
    port = int(flint.rsplit(":", 1)[1])
    async with session() as http:
        pid = await new_playground(http, flint)
        ws_url = flint.replace("http", "ws") + f"/ws/p/{pid}/"
        for origin in (
            f"http://127.0.0.1:{port + 1}",  # another port of the same host
            f"https://127.0.0.1:{port}",  # another scheme
            "http://127.0.0.1",  # the default port is another port
            f"http://localhost:{port}",  # an allowed host, but not this origin
            "null",  # a sandboxed frame
        ):
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await http.ws_connect(ws_url, origin=origin)
            assert info.value.status == 403, origin
        async with http.ws_connect(ws_url, origin=f"http://127.0.0.1:{port}") as ws:
            assert (await ws.receive_json())["type"] == "session.ready"


# --- 6 and 13: every message limit agrees, and a message just over it is answered ----


async def open_socket(http: aiohttp.ClientSession, base: str) -> tuple[Any, dict[str, Any]]:
    pid = await new_playground(http, base)
    ws = await http.ws_connect(
        base.replace("http", "ws") + f"/ws/p/{pid}/", origin=base, max_msg_size=0
    )
    ready = await ws.receive_json()
    assert ready["type"] == "session.ready"
    return ws, ready


async def test_the_largest_storable_project_saves_over_the_socket(flint: ServerURL) -> None:
    # Quotes and newlines: the text that JSON makes twice as long.
    per_file = limits.MAX_PROJECT_BYTES // limits.MAX_FILES
    files = {f"src/f{i:02}.js": ('"\n' * per_file)[:per_file] for i in range(limits.MAX_FILES)}
    message = json.dumps({"type": "files.save", "files": files, "base_version": 1})
    assert len(message) > 4 * MIB > 1 * MIB, "over the old 1 MiB socket limit"
    async with session() as http:
        ws, ready = await open_socket(http, flint)
        assert ready["max_message_bytes"] == limits.MAX_MESSAGE_BYTES >= len(message)
        await ws.send_str(message)
        saved = await ws.receive_json(timeout=30)
        assert saved["type"] == "files.saved" and saved["saved"] is True, saved
        await ws.close()


async def test_a_single_frame_just_over_the_limit_gets_too_large_and_the_socket_lives(
    flint: ServerURL,
) -> None:
    async with session() as http:
        ws, _ = await open_socket(http, flint)
        # One frame, one byte over Flint's limit (and over Daphne's old 1 MiB cap).
        await ws.send_str("x" * (limits.MAX_MESSAGE_BYTES + 1))
        err = await ws.receive_json(timeout=10)
        assert err["code"] == "protocol.too_large"
        assert err["detail"]["limit"] == limits.MAX_MESSAGE_BYTES
        await ws.send_str(json.dumps({"type": "ping", "t": 1}))
        assert (await ws.receive_json(timeout=10))["type"] == "pong"
        await ws.close()


async def test_a_frame_over_the_hard_cap_is_closed_with_1009(flint: ServerURL) -> None:
    async with session() as http:
        ws, _ = await open_socket(http, flint)
        await ws.send_str("x" * (limits.WS_HARD_CAP_BYTES + 1))
        msg = await ws.receive(timeout=10)
        assert msg.type == aiohttp.WSMsgType.CLOSE, msg
        assert ws.close_code == 1009


# --- 8: a flooder is closed with 1008, and the server logs no traceback ---------------------


async def test_a_flood_is_closed_with_1008_by_a_real_daphne(flint: ServerURL) -> None:
    async with session() as http:
        ws, _ = await open_socket(http, flint)
        for _ in range(RATE * 3):
            await ws.send_str('{"type": "ping"}')
        codes = set()
        while True:
            msg = await ws.receive(timeout=10)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
            codes.add(json.loads(msg.data).get("code"))
        assert "protocol.rate_limited" in codes
        assert ws.close_code == 1008
    await asyncio.sleep(0.5)
    assert "Traceback" not in flint.log_path.read_text(errors="replace")


# --- 4: the provider key never reaches a page or a log --------------------------------------


async def test_an_upstream_error_quoting_the_key_reaches_neither_page_nor_log(
    flint: ServerURL, upstream: ScriptedUpstream
) -> None:
    leak = f"invalid request, got headers Authorization: Bearer {TEST_KEY}"
    async with session() as http:
        upstream.script(Reply(lorem=10, fail=Fail("error_event", after=3, message=leak)))
        ws, _ = await open_socket(http, flint)
        await ws.send_str(json.dumps({"type": "gen.start", "instruction": "go", "files": {}}))
        frames = []
        while (msg := await ws.receive_json(timeout=10))["type"] != "gen.done":
            frames.append(msg)
        await ws.close()
        error = next(f for f in frames if f["type"] == "error")
        assert "mid-stream" in error["message"] and TEST_KEY not in json.dumps(frames)

        pid = await new_playground(http, flint)
        upstream.script(Reply(lorem=10, fail=Fail("error_event", after=3, message=leak)))
        async with http.post(
            flint + f"/api/p/{pid}/generate",
            json={"type": "gen.start", "instruction": "go", "files": {}},
        ) as resp:
            stream = await resp.text()
        assert "mid-stream" in stream and TEST_KEY not in stream
    await asyncio.sleep(0.3)
    assert TEST_KEY not in flint.log_path.read_text(errors="replace")


# --- 12: a generation that died with its process is closed at the next start -----------


async def test_after_a_crash_mid_answer_the_record_is_closed_and_resume_says_why(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    import os
    import signal
    import sqlite3

    env = flint_env_for(tmp_path, upstream)
    upstream.script(Reply(lorem=100_000, rate=200))
    async with session() as http:
        with daphne_server(env) as first:
            ws, ready = await open_socket(http, first)
            pid = ready["playground"]
            await ws.send_str(json.dumps({"type": "gen.start", "instruction": "go", "files": {}}))
            gen = (await ws.receive_json(timeout=10))["gen"]
            while (await ws.receive_json(timeout=10))["type"] != "gen.delta":
                pass
            # A generation still running half a second in has its record begun
            # ("running"); a shorter one is written once, when it ends.
            db = sqlite3.connect(tmp_path / "flint.sqlite3")
            query = "select status, stats from playground_generationrecord where id = ?"
            deadline = time.monotonic() + 10
            while db.execute(query, (gen,)).fetchone() is None:
                assert time.monotonic() < deadline, "the running record was never begun"
                await asyncio.sleep(0.05)
            os.kill(first.pid, signal.SIGKILL)  # the server dies mid-answer
            await ws.close()
        assert db.execute(query, (gen,)).fetchone()[0] == "running"
        with daphne_server(env) as second:
            status, stats = db.execute(query, (gen,)).fetchone()
            assert status == "error" and json.loads(stats)["ended"] == "server_restart"
            ws = await http.ws_connect(
                second.replace("http", "ws") + f"/ws/p/{pid}/", origin=second
            )
            assert (await ws.receive_json())["type"] == "session.ready"
            await ws.send_str(json.dumps({"type": "gen.resume", "gen": gen}))
            err = await ws.receive_json(timeout=10)
            assert err["code"] == "gen.unknown" and err["detail"]["reason"] == "server_restart"
            assert "restarted" in err["message"] and "expired" not in err["message"]
            await ws.close()
        db.close()
