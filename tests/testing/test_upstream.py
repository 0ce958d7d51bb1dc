"""Tests of the scripted upstream, over real loopback sockets with the official SDK."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI

from playground.testing.upstream import Fail, Reply, ScriptedUpstream, lorem_tokens, tokenize

MSGS = [
    {"role": "system", "content": "You edit code."},
    {"role": "user", "content": "Write a function."},
]


@pytest.fixture
def up() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as server:
        yield server


_SSL = ssl.create_default_context()  # built once: each client would load the CA bundle (~80 ms)


def client(up: ScriptedUpstream, **kw: object) -> AsyncOpenAI:
    kw.setdefault("http_client", openai.DefaultAsyncHttpxClient(verify=_SSL))
    kw.setdefault("api_key", "sk-test")
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5.0)
    return AsyncOpenAI(base_url=up.base_url, **kw)  # type: ignore[arg-type]


async def collect(c: AsyncOpenAI, **kw: object) -> tuple[list[str], list[object]]:
    """Stream one completion; the content deltas and every chunk."""
    stream = await c.chat.completions.create(
        model=kw.pop("model", "gpt-test"),  # type: ignore[arg-type]
        messages=kw.pop("messages", MSGS),  # type: ignore[arg-type]
        stream=True,
        **kw,  # type: ignore[arg-type]
    )
    tokens: list[str] = []
    chunks: list[object] = []
    async for chunk in stream:
        chunks.append(chunk)
        if chunk.choices and chunk.choices[0].delta.content:
            tokens.append(chunk.choices[0].delta.content)
    return tokens, chunks


async def drain(stream: object, got: list[str]) -> None:
    """Iterate an SDK stream, appending content deltas to ``got`` (kept if it raises)."""
    async for chunk in stream:  # type: ignore[attr-defined]
        if chunk.choices and chunk.choices[0].delta.content:
            got.append(chunk.choices[0].delta.content)


def test_tokenize_keeps_every_character() -> None:
    text = "def f(x):\n    return x  + 1  # ünïcode ✓\n\n"
    toks = tokenize(text)
    assert "".join(toks) == text
    assert toks[:3] == ["def", " f", "("]
    assert "\n    return" in toks
    assert len(lorem_tokens(40)) == 40


async def test_stream_exact_tokens_usage_and_request_record(up: ScriptedUpstream) -> None:
    want = ["Hel", "lo", ",", " wor", "ld", "\n", "  ✓", ' "q"', ""]
    up.script(Reply(tokens=want, usage={"prompt_tokens": 42}))
    async with client(up, api_key="sk-abc") as c:
        tokens, chunks = await collect(c, stream_options={"include_usage": True})
    assert tokens == [t for t in want if t]
    finish = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason]  # type: ignore[attr-defined]
    assert finish[0].choices[0].finish_reason == "stop"  # type: ignore[attr-defined]
    usage = chunks[-1].usage  # type: ignore[attr-defined]
    assert (usage.prompt_tokens, usage.completion_tokens) == (42, len(want))
    assert usage.total_tokens == 42 + len(want)

    req = up.requests[-1]
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.api_key == "sk-abc"
    assert req.headers["authorization"] == "Bearer sk-abc"
    assert req.model == "gpt-test"
    assert req.prompt == "Write a function."
    assert req.body["messages"] == MSGS
    up.wait_idle()
    s = up.last_stream
    assert s.completed
    assert not s.client_disconnected
    assert s.tokens_emitted == len(want)
    assert s.request_id == req.id
    assert s.t_request <= s.t_headers <= s.t_first_token <= s.t_end  # type: ignore[operator]


async def test_text_reply_and_default_echo(up: ScriptedUpstream) -> None:
    up.script("Hello there, world.")
    async with client(up) as c:
        first, _ = await collect(c)
        echoed, _ = await collect(c)  # queue empty: the default echoes the last user message
    assert first == tokenize("Hello there, world.")
    assert "".join(echoed) == "Write a function."


async def test_stop_sequences_end_the_answer_before_them_as_real_servers_do(
    up: ScriptedUpstream,
) -> None:
    up.script(Reply(tokens=["a {", "}\n", "<fi", "le path=", '"x">', "more"]))
    up.script(Reply(tokens=["no ", "stop ", "here"]))
    async with client(up) as c:
        cut, _ = await collect(c, stop=["\n<file", "never"])
        whole, _ = await collect(c, stop="<file")
    assert cut == ["a {", "}"]
    assert whole == ["no ", "stop ", "here"]


async def test_non_streaming_and_models(up: ScriptedUpstream) -> None:
    up.configure(models=["gpt-test", "coder-1"])
    up.script(Reply(text="fn main() {}", model="coder-1"))
    async with client(up) as c:
        r = await c.chat.completions.create(model="coder-1", messages=MSGS)
        models = [m.id async for m in c.models.list()]
    assert r.choices[0].message.content == "fn main() {}"
    assert r.model == "coder-1"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None
    assert r.usage.completion_tokens == len(tokenize("fn main() {}"))
    assert models == ["gpt-test", "coder-1"]
    assert [q.path for q in up.requests] == ["/v1/chat/completions", "/v1/models"]
    assert len({q.peer for q in up.requests}) == 1  # one kept-alive connection


async def test_rate_is_honoured_at_1k(up: ScriptedUpstream) -> None:
    up.script(Reply(lorem=400, rate=1000))
    async with client(up) as c:
        stream = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
        n, t_first = 0, 0.0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
                if n == 1:
                    t_first = time.monotonic()
        elapsed = time.monotonic() - t_first
    assert n == 400
    rate = (n - 1) / elapsed
    assert 800 < rate < 1150, rate
    up.wait_idle()
    server_rate = up.last_stream.measured_rate
    assert server_rate is not None
    assert 900 < server_rate < 1100, server_rate


async def test_chunking_groups_tokens_per_event(up: ScriptedUpstream) -> None:
    up.script(Reply(tokens=[str(i) for i in range(10)], chunk=3))
    async with client(up) as c:
        tokens, _ = await collect(c)
    assert tokens == ["012", "345", "678", "9"]


async def test_ttft_delays_first_token_but_not_headers(up: ScriptedUpstream) -> None:
    up.script(Reply(text="late tokens", ttft=0.3))
    async with client(up) as c:
        t0 = time.monotonic()
        stream = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
        t_headers = time.monotonic() - t0
        t_token = None
        async for chunk in stream:
            if t_token is None and chunk.choices and chunk.choices[0].delta.content:
                t_token = time.monotonic() - t0
    assert t_headers < 0.2
    assert t_token is not None
    assert 0.3 <= t_token < 0.6
    up.wait_idle()
    s = up.last_stream
    assert s.t_first_token - s.t_headers >= 0.3  # type: ignore[operator]


@pytest.mark.parametrize(
    ("status", "exc", "code"),
    [
        (401, openai.AuthenticationError, "invalid_api_key"),
        (403, openai.PermissionDeniedError, "forbidden"),
        (404, openai.NotFoundError, "model_not_found"),
        (429, openai.RateLimitError, "rate_limit_exceeded"),
        (500, openai.InternalServerError, None),
        (502, openai.InternalServerError, None),
        (503, openai.InternalServerError, "overloaded"),
    ],
)
async def test_status_failures(
    up: ScriptedUpstream, status: int, exc: type[openai.APIStatusError], code: str | None
) -> None:
    up.script(Reply(fail=Fail("status", status=status, retry_after=7 if status == 429 else None)))
    async with client(up) as c:
        with pytest.raises(exc) as info:
            await collect(c, model="gpt-nope")
    err = info.value
    assert err.status_code == status
    assert err.code == code
    assert isinstance(err.body, dict)
    assert err.body["message"]
    if status == 404:
        assert "gpt-nope" in err.body["message"]
    if status == 429:
        assert err.response.headers["retry-after"] == "7"
    assert len(up.requests) == 1  # max_retries=0: one attempt


async def test_rate_limit_retry_after_is_honoured_by_sdk_retries(up: ScriptedUpstream) -> None:
    up.script(Reply(fail=Fail("status", status=429, retry_after=0.2)), "ok")
    async with client(up, max_retries=1) as c:
        t0 = time.monotonic()
        tokens, _ = await collect(c)
    assert tokens == ["ok"]
    assert time.monotonic() - t0 >= 0.2
    assert len(up.requests) == 2


async def test_api_key_and_model_checks_do_not_consume_replies() -> None:
    with ScriptedUpstream(api_key="sk-good", check_model=True, models=["m1"]) as up:
        up.script("scripted")
        async with client(up, api_key="sk-bad") as c:
            with pytest.raises(openai.AuthenticationError):
                await collect(c, model="m1")
        async with client(up, api_key="sk-good") as c:
            with pytest.raises(openai.NotFoundError) as info:
                await collect(c, model="m2")
            assert info.value.code == "model_not_found"
            tokens, _ = await collect(c, model="m1")
        assert tokens == ["scripted"]


async def test_drop_mid_stream(up: ScriptedUpstream) -> None:
    up.script(Reply(lorem=20, fail=Fail("drop", after=5)))
    got: list[str] = []
    async with client(up) as c:
        stream = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
        with pytest.raises(openai.APIConnectionError):
            await drain(stream, got)
    assert got == lorem_tokens(5)
    up.wait_idle()
    s = up.last_stream
    assert s.server_closed
    assert not s.completed
    assert not s.client_disconnected
    assert s.tokens_emitted == 5


async def test_truncate_ends_body_without_done(up: ScriptedUpstream) -> None:
    up.script(Reply(lorem=20, fail=Fail("truncate", after=4)))
    async with client(up) as c:
        tokens, chunks = await collect(c)
    assert tokens == lorem_tokens(4)
    assert not any(ch.choices and ch.choices[0].finish_reason for ch in chunks)  # type: ignore[attr-defined]


async def test_error_event_in_stream(up: ScriptedUpstream) -> None:
    up.script(Reply(lorem=10, fail=Fail("error_event", after=3, message="model crashed")))
    got: list[str] = []
    async with client(up) as c:
        stream = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
        with pytest.raises(openai.APIError, match="model crashed"):
            await drain(stream, got)
    assert len(got) == 3


async def test_stall_trips_client_read_timeout(up: ScriptedUpstream) -> None:
    up.script(Reply(lorem=10, fail=Fail("stall", after=2, seconds=5)))
    got: list[str] = []
    async with client(up, timeout=0.3) as c:
        stream = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
        t0 = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            await drain(stream, got)
        assert 0.25 < time.monotonic() - t0 < 1.5
    assert len(got) == 2
    await up.wait_idle_async()
    s = up.last_stream
    assert s.client_disconnected
    assert s.tokens_emitted == 2
    assert s.tokens_after_disconnect == 0


async def test_short_stall_resumes(up: ScriptedUpstream) -> None:
    up.script(Reply(lorem=6, fail=Fail("stall", after=3, seconds=0.2)))
    async with client(up) as c:
        t0 = time.monotonic()
        tokens, _ = await collect(c)
    assert tokens == lorem_tokens(6)
    assert time.monotonic() - t0 >= 0.2


async def test_hang_before_headers_times_out(up: ScriptedUpstream) -> None:
    up.script(Reply(text="never", fail=Fail("hang", seconds=10)))
    async with client(up, timeout=0.3) as c:
        with pytest.raises(openai.APITimeoutError):
            await collect(c)
    await up.wait_idle_async()
    s = up.last_stream
    assert s.client_disconnected
    assert s.t_headers is None
    assert s.tokens_emitted == 0


async def test_close_without_response(up: ScriptedUpstream) -> None:
    up.script(Reply(fail="close"))
    async with client(up) as c:
        with pytest.raises(openai.APIConnectionError) as info:
            await collect(c)
    assert not isinstance(info.value, openai.APITimeoutError)
    up.wait_idle()
    assert up.last_stream.server_closed


async def test_refused_connections_then_reopened(up: ScriptedUpstream) -> None:
    up.refuse()
    async with client(up) as c:
        with pytest.raises(openai.APIConnectionError):
            await collect(c)
        up.accept()
        tokens, _ = await collect(c)
        assert "".join(tokens) == "Write a function."
        up.refuse(seconds=0.2)
        with pytest.raises(openai.APIConnectionError):
            await collect(c)
        await asyncio.sleep(0.3)
        tokens, _ = await collect(c)
    assert "".join(tokens) == "Write a function."
    assert len(up.requests) == 2  # refused attempts never reached the server


async def test_client_disconnect_stops_generation(up: ScriptedUpstream) -> None:
    rate = 2000.0
    up.script(Reply(lorem=10_000, rate=rate))
    async with client(up) as c:
        stream = await c.chat.completions.create(model="m", messages=MSGS, stream=True)
        n = 0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
                if n == 100:
                    break
        t_close = time.monotonic()
        await stream.close()
        await asyncio.sleep(0.1)  # the server keeps its clock running; nothing more is sent
    await up.wait_idle_async()
    s = up.last_stream
    assert s.client_disconnected
    assert not s.completed
    assert s.t_disconnect is not None
    assert s.t_disconnect - t_close < 0.05
    # At most the one write in flight when the client closed (how many tokens it carries
    # depends on how late this busy box ran that tick: a time, not a property), and
    # nothing at all once the server saw the disconnect.
    writes_after = [w for w in s.writes if w[0] >= t_close]
    assert len(writes_after) <= 1, writes_after
    assert s.tokens_after_disconnect == 0
    assert s.tokens_emitted < 200  # stopped, not run to 10k


async def test_control_api_over_http(up: ScriptedUpstream) -> None:
    root = up.root_url
    async with aiohttp.ClientSession() as http:
        r = await http.post(
            f"{root}/_script",
            json=[{"text": "from http"}, {"tokens": ["a", "b"], "fail": {"mode": "truncate"}}],
        )
        assert await r.json() == {"queued": 2}
        r = await http.post(f"{root}/_script", json={"replies": [{"fail": 429}]})
        assert (await r.json())["queued"] == 3
        r = await http.post(f"{root}/_script", json={"bogus": 1})
        assert r.status == 400
        r = await http.post(f"{root}/_config", json={"ttft": 0.0, "default": {"lorem": 3}})
        assert (await r.json())["default"]["lorem"] == 3

        async with client(up, api_key="sk-http") as c:
            assert (await collect(c))[0] == ["from", " http"]
            assert (await collect(c))[0] == []
            with pytest.raises(openai.RateLimitError):
                await collect(c)
            assert (await collect(c))[0] == lorem_tokens(3)
        await up.wait_idle_async()

        reqs = await (await http.get(f"{root}/_requests")).json()
        assert len(reqs) == 4
        assert reqs[0]["headers"]["authorization"] == "Bearer sk-http"
        assert reqs[0]["body"]["messages"] == MSGS
        streams = await (await http.get(f"{root}/_streams?writes=1")).json()
        assert [s["status"] for s in streams] == [200, 200, 429, 200]
        assert [s["fail"] for s in streams] == [None, "truncate", "status", None]
        assert streams[0]["tokens_emitted"] == 2
        assert streams[0]["completed"]
        assert streams[0]["writes"]
        assert streams[0]["n_writes"] == len(streams[0]["writes"])

        r = await http.post(f"{root}/_reset")
        assert r.status == 200
        assert await (await http.get(f"{root}/_requests")).json() == []
        assert await (await http.get(f"{root}/_streams")).json() == []
        assert (await (await http.get(f"{root}/_health")).json())["pending"] == 0
    assert up.requests == []
    assert up.streams == []


async def test_script_from_another_thread_while_streaming(up: ScriptedUpstream) -> None:
    up.script(Reply(lorem=50, rate=1000))
    async with client(up) as c:
        task = asyncio.create_task(collect(c))
        await asyncio.to_thread(up.script, "second")
        first, _ = await task
        second, _ = await collect(c)
    assert len(first) == 50
    assert second == ["second"]


def test_standalone_process_prints_base_url() -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "playground.testing.upstream",
            "--port",
            "0",
            "--default",
            "hi there",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1")

        async def talk() -> list[str]:
            http = openai.DefaultAsyncHttpxClient(verify=_SSL)
            async with AsyncOpenAI(base_url=base_url, api_key="k", http_client=http) as c:
                return (await collect(c))[0]

        assert asyncio.run(talk()) == ["hi", " there"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
        assert proc.stdout is not None
        proc.stdout.close()
