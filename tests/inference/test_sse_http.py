"""The lean HTTP/1.1 SSE reader (playground/inference/sse_http.py), through the backend.

Every test talks to a real loopback server: the scripted upstream, or a raw asyncio
server that sends exactly the bytes a test gives it, split and paced as the test says
(so framing, splits and odd-but-legal servers can be reproduced byte for byte).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from playground.inference.base import ChatRequest, InferenceError, Message
from playground.inference.openai_compatible import OpenAICompatibleBackend
from playground.testing.upstream import Fail, Reply, ScriptedUpstream
from tests.conftest import TEST_KEY

REQUEST = ChatRequest(messages=(Message("user", "hello"),))

Piece = bytes | float  # bytes to write, or seconds to wait


def ev(text: str) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


FINISH = (
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
    b"data: [DONE]\n\n"
)


def chunked(*events: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"


def head(status: int = 200, **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: text/event-stream"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def ok(body: bytes) -> bytes:
    return head(Transfer_Encoding="chunked") + body


class RawServer:
    """Answers each request (on any connection) with the next script: a list of pieces,
    then the connection is closed if the script says so."""

    def __init__(self) -> None:
        self.scripts: collections.deque[tuple[list[Piece], bool]] = collections.deque()
        self.connections = 0
        self.requests: list[tuple[int, bytes, bytes]] = []  # (connection, head, body)
        self.port = 0
        self._server: asyncio.Server | None = None

    def script(self, *pieces: Piece, close: bool = False) -> None:
        self.scripts.append((list(pieces), close))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        try:
            while True:
                request_head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in request_head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests.append((conn, request_head, body))
                pieces, close = self.scripts.popleft()
                for piece in pieces:
                    if isinstance(piece, float):
                        await asyncio.sleep(piece)
                    else:
                        writer.write(piece)
                        await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def raw() -> AsyncIterator[RawServer]:
    async with RawServer() as server:
        yield server


def backend(base_url: str, **kw: object) -> OpenAICompatibleBackend:
    options: dict = {"base_url": base_url, "model": "gpt-test", "api_key": TEST_KEY}
    options.update({"timeout": 5.0, **kw})
    return OpenAICompatibleBackend(**options)


async def collect(b: OpenAICompatibleBackend) -> tuple[str, list]:
    deltas = [d async for d in b.stream(REQUEST)]
    return "".join(d.text for d in deltas), deltas


def split(data: bytes, size: int) -> list[Piece]:
    """``data`` in pieces of ``size`` bytes, each written on its own after a pause."""
    out: list[Piece] = []
    for i in range(0, len(data), size):
        out += [data[i : i + size], 0.002]
    return out


# --- framing --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 7, 40])
async def test_events_split_anywhere_across_reads_arrive_whole(raw: RawServer, size: int) -> None:
    words = ["def ", "main", "():\n", "    return ", "1\n"]
    raw.script(*split(ok(chunked(*(ev(w) for w in words), FINISH)), size))
    b = backend(raw.base_url)
    text, deltas = await collect(b)
    await b.aclose()
    assert text == "".join(words)
    assert sum(d.tokens for d in deltas) == len(words)
    assert deltas[-1].usage is not None and deltas[-1].usage.prompt_tokens == 3


async def test_every_complete_event_of_a_read_comes_as_one_delta(raw: RawServer) -> None:
    words = [f"w{i} " for i in range(200)]
    raw.script(ok(chunked(b"".join(ev(w) for w in words) + FINISH)))
    b = backend(raw.base_url)
    text, deltas = await collect(b)
    await b.aclose()
    assert text == "".join(words)
    assert len(deltas) == 1 and deltas[0].tokens == 200 and deltas[0].finish_reason == "stop"


@pytest.mark.parametrize("framing", ["event", "write", "length"])
async def test_every_body_framing_streams_and_keeps_the_connection(
    upstream: ScriptedUpstream, framing: str
) -> None:
    b = backend(upstream.base_url)
    for _ in range(2):
        upstream.script(Reply(lorem=300, rate=20_000, framing=framing))  # type: ignore[arg-type]
        _, deltas = await collect(b)
        assert sum(d.tokens for d in deltas) == 300 and deltas[-1].usage is not None
    await b.aclose()
    assert len({r.peer for r in upstream.requests}) == 1, "a kept-alive connection was reused"


async def test_a_body_delimited_by_closing_the_connection(raw: RawServer) -> None:
    for _ in range(2):
        raw.script(head(Connection="close"), ev("a"), 0.01, ev("b"), FINISH, close=True)
    b = backend(raw.base_url)
    assert (await collect(b))[0] == "ab"
    assert (await collect(b))[0] == "ab"
    await b.aclose()
    assert raw.connections == 2, "a close-delimited body leaves no connection to reuse"


async def test_interim_responses_and_trailers_are_skipped(raw: RawServer) -> None:
    body = chunked(ev("x"), FINISH)[: -len(b"\r\n")] + b"X-Trailer: 1\r\n\r\n"
    raw.script(b"HTTP/1.1 100 Continue\r\n\r\n", 0.005, ok(body))
    raw.script(ok(chunked(ev("y"), FINISH)))
    b = backend(raw.base_url)
    assert (await collect(b))[0] == "x"
    assert (await collect(b))[0] == "y"
    await b.aclose()
    assert raw.connections == 1


# --- SSE --------------------------------------------------------------------------------


async def test_sse_comments_fields_multi_line_data_and_crlf(raw: RawServer) -> None:
    multi = b'data: {"choices":\ndata: [{"delta":{"content":"two lines"}}]}\n\n'
    crlf = ev(" crlf").replace(b"\n", b"\r\n")
    events = [
        b": keep-alive\n\n",
        b"event: message\nid: 1\nretry: 100\n" + ev("a"),
        b":\n",
        multi,
        crlf,
        ev(" end"),
        FINISH,
    ]
    raw.script(ok(chunked(*events)))
    b = backend(raw.base_url)
    text, _ = await collect(b)
    await b.aclose()
    assert text == "atwo lines crlf end"


async def test_lines_of_json_without_blank_lines_between_still_parse(raw: RawServer) -> None:
    lines = ev("a").rstrip(b"\n") + b"\n" + ev("b").rstrip(b"\n") + b"\n\n"
    raw.script(ok(chunked(lines, FINISH)))
    b = backend(raw.base_url)
    text, _ = await collect(b)
    await b.aclose()
    assert text == "ab"


async def test_the_body_after_done_is_read_to_its_end_and_the_connection_kept(
    raw: RawServer,
) -> None:
    done = chunked(ev("a"), FINISH).removesuffix(b"0\r\n\r\n")
    raw.script(ok(done), 0.01, chunked(b": after done\n\n"))
    raw.script(ok(chunked(ev("b"), FINISH)))
    b = backend(raw.base_url)
    assert (await collect(b))[0] == "a"
    assert (await collect(b))[0] == "b"
    await b.aclose()
    assert raw.connections == 1


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ([ok(b"5\r\nab"), 0.01], "upstream.interrupted"),  # dropped mid-chunk
        ([ok(b"zz\r\nab\r\n0\r\n\r\n")], "upstream.interrupted"),  # not a chunk size
        ([ok(b"2\r\nabXY")], "upstream.interrupted"),  # a chunk not ended by CRLF
        ([b"SMTP ready\r\n\r\n"], "upstream.interrupted"),  # not HTTP
        ([head(Content_Length="500") + ev("a")], "upstream.interrupted"),  # short body
        ([head(Transfer_Encoding="gzip")], "upstream.interrupted"),
    ],
    ids=["drop", "bad-size", "no-crlf", "not-http", "short-length", "gzip"],
)
async def test_broken_framing_is_an_interrupted_stream(
    raw: RawServer, script: list[Piece], code: str
) -> None:
    raw.script(*script, close=True)
    b = backend(raw.base_url)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert info.value.code == code and info.value.retryable


async def test_a_connection_refused_is_unreachable() -> None:
    async with RawServer() as server:
        url = server.base_url
    b = backend(url)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert info.value.code == "upstream.unreachable" and info.value.retryable


async def test_a_stall_mid_answer_times_out_as_mid_answer(upstream: ScriptedUpstream) -> None:
    upstream.script(Reply(lorem=10, fail=Fail("stall", after=3, seconds=3)))
    b = backend(upstream.base_url, timeout=0.3)
    texts: list[str] = []

    async def read() -> None:
        async for d in b.stream(REQUEST):
            texts.append(d.text)

    with pytest.raises(InferenceError) as info:
        await read()
    await b.aclose()
    assert info.value.code == "upstream.timeout" and "mid-answer" in info.value.message
    assert texts, "the text before the stall was delivered"


async def test_a_status_error_body_is_read_and_the_connection_reused(raw: RawServer) -> None:
    error = orjson.dumps({"error": {"message": f"bad key {TEST_KEY}"}})
    raw.script(head(401, Content_Length=str(len(error))) + error)
    raw.script(ok(chunked(ev("fine"), FINISH)))
    b = backend(raw.base_url)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    assert info.value.code == "upstream.auth" and TEST_KEY not in info.value.message
    assert (await collect(b))[0] == "fine"
    await b.aclose()
    assert raw.connections == 1


async def test_a_503_loading_and_a_retry_after_are_read_from_the_answer(raw: RawServer) -> None:
    body = b'{"error": {"message": "Model is loading"}}'
    raw.script(head(503, Content_Length=str(len(body))) + body)
    raw.script(head(429, Content_Length="0", Retry_After="7"))
    b = backend(raw.base_url)
    with pytest.raises(InferenceError) as loading:
        await collect(b)
    with pytest.raises(InferenceError) as limited:
        await collect(b)
    await b.aclose()
    assert loading.value.code == "upstream.loading"
    assert limited.value.code == "upstream.rate_limited" and limited.value.retry_after == 7


# --- the pool -----------------------------------------------------------------------------


async def test_a_connection_the_server_closed_while_idle_is_not_reused(raw: RawServer) -> None:
    raw.script(ok(chunked(ev("a"), FINISH)), close=True)  # keep-alive, then closed anyway
    raw.script(ok(chunked(ev("b"), FINISH)))
    b = backend(raw.base_url)
    assert (await collect(b))[0] == "a"
    await asyncio.sleep(0.05)  # the close reaches the idle connection
    assert (await collect(b))[0] == "b"
    await b.aclose()
    assert raw.connections == 2


async def test_a_reused_connection_that_dies_before_answering_is_retried_once(
    raw: RawServer,
) -> None:
    raw.script(ok(chunked(ev("a"), FINISH)))
    raw.script(close=True)  # reads the second request, closes without a word
    raw.script(ok(chunked(ev("b"), FINISH)))
    b = backend(raw.base_url)
    assert (await collect(b))[0] == "a"
    assert (await collect(b))[0] == "b"
    await b.aclose()
    assert raw.connections == 2 and len(raw.requests) == 3


async def test_reads_are_paced_once_tokens_come_fast_and_nothing_is_lost(
    upstream: ScriptedUpstream,
) -> None:
    upstream.script(Reply(lorem=400, rate=2000))  # one event per chunk, one chunk per ms
    b = backend(upstream.base_url, read_interval=0.02)
    _, deltas = await collect(b)
    await b.aclose()
    assert sum(d.tokens for d in deltas) == 400
    assert len(deltas) < 100, "a paced read carries the chunks that came meanwhile"


# --- TLS and proxies: the SDK's own rules ------------------------------------------------


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(crt), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


@pytest.mark.parametrize("reader", ["lean", "sdk"])
async def test_https_upstreams_stream_with_the_sdks_certificate_rules(
    cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    crt, key = cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(crt))  # trusted the way httpx trusts it
    async with ScriptedUpstream(ssl_context=context) as up:
        up.script(Reply(lorem=50, rate=5000), Reply(text="again"))
        b = backend(up.base_url, reader=reader)
        _, deltas = await collect(b)
        assert sum(d.tokens for d in deltas) == 50
        assert (await collect(b))[0] == "again"
        await b.aclose()
        assert len({r.peer for r in up.requests}) == 1
    monkeypatch.delenv("SSL_CERT_FILE")
    async with ScriptedUpstream(ssl_context=context) as up:  # not trusted: refused
        b = backend(up.base_url, reader=reader)
        with pytest.raises(InferenceError) as info:
            await collect(b)
        await b.aclose()
        assert info.value.code == "upstream.unreachable"


async def test_a_proxy_from_the_environment_is_honoured_through_the_sdk(
    upstream: ScriptedUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", upstream.root_url)  # the upstream stands in for a proxy
    upstream.script(Reply(text="via the proxy"))
    b = backend("http://model-server.invalid/v1")
    text, _ = await collect(b)
    await b.aclose()
    assert text == "via the proxy"
    assert b._reader == "sdk"
