"""The Responses WebSocket backend against a real scripted WebSocket server on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from playground.generations.relay import Send
from playground.generations.runner import Generation
from playground.generations.stats import RetryPolicy
from playground.inference.base import ChatRequest, Delta, InferenceError, Message
from playground.inference.responses_ws import ResponsesWebSocketBackend
from playground.testing.responses_ws import ScriptedResponsesUpstream
from playground.testing.servers import free_port
from playground.testing.upstream import Fail, Reply, ScriptedUpstream
from tests.conftest import TEST_KEY

SYSTEM = Message("system", "You are Flint.\n\n# Project files\n\n## app.py")


def request(text: str = "hello", session: str | None = "pg1") -> ChatRequest:
    return ChatRequest(messages=(SYSTEM, Message("user", text)), session=session)


@pytest.fixture(scope="module")
def ws_server() -> Iterator[ScriptedResponsesUpstream]:
    with ScriptedResponsesUpstream(api_key=TEST_KEY) as up:
        yield up


@pytest.fixture
def ws(ws_server: ScriptedResponsesUpstream) -> Iterator[ScriptedResponsesUpstream]:
    ws_server.configure(
        rate=0.0,
        ttft=0.0,
        api_key=TEST_KEY,
        connection_limit=3600.0,
        ping_interval=None,
        steering=True,
        refuse_upgrade=None,
        default=Reply(echo=True),
    )
    ws_server.close_all()
    ws_server.reset()
    yield ws_server
    ws_server.close_all()
    ws_server.reset()


def backend(base_url: str, **kw: Any) -> ResponsesWebSocketBackend:
    options: dict[str, Any] = {
        "base_url": base_url,
        "model": "gpt-test",
        "api_key": TEST_KEY,
        "timeout": 5.0,
    }
    options.update(kw)
    return ResponsesWebSocketBackend(**options)


async def collect(b: ResponsesWebSocketBackend, req: ChatRequest) -> tuple[str, list[Delta]]:
    deltas = [d async for d in b.stream(req)]
    return "".join(d.text for d in deltas), deltas


def creates(up: ScriptedResponsesUpstream) -> list[dict[str, Any]]:
    return [r.body for r in up.requests if r.body.get("type") == "response.create"]


async def test_a_turn_streams_text_and_usage_over_the_socket(ws: ScriptedResponsesUpstream) -> None:
    ws.script(Reply(tokens=["Hel", "lo", " wor", "ld"], usage={"input_tokens": 7}))
    b = backend(ws.base_url)
    text, deltas = await collect(b, request())
    await b.aclose()
    assert text == "Hello world"
    assert sum(d.tokens for d in deltas) == 4
    last = deltas[-1]
    assert last.finish_reason == "stop" and last.usage is not None
    assert last.usage.prompt_tokens == 7 and last.usage.completion_tokens == 4
    [conn] = ws.connections
    assert conn.api_key == TEST_KEY  # the Bearer key on the upgrade
    [body] = creates(ws)
    assert body["model"] == "gpt-test" and body["instructions"] == SYSTEM.content
    assert body["input"] == [{"role": "user", "content": "hello"}]
    assert "stream" not in body and "background" not in body
    assert "previous_response_id" not in body


async def test_turns_reuse_one_socket_and_send_only_the_new_input(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url)
    ws.script("first answer", "second answer", "third")
    assert (await collect(b, request("one")))[0] == "first answer"
    assert (await collect(b, request("two")))[0] == "second answer"
    assert (await collect(b, request("three")))[0] == "third"
    await b.aclose()
    assert len(ws.connections) == 1, "a socket per turn"
    first, second, third = creates(ws)
    assert "previous_response_id" not in first
    streams = ws.streams
    assert second["input"] == [{"role": "user", "content": "two"}]
    assert second["previous_response_id"] and third["previous_response_id"]
    assert second["previous_response_id"] != third["previous_response_id"]
    assert streams[0].completed and streams[2].completed


async def test_sessions_have_their_own_sockets(ws: ScriptedResponsesUpstream) -> None:
    b = backend(ws.base_url)
    await collect(b, request("a", session="pg1"))
    await collect(b, request("b", session="pg2"))
    await collect(b, request("c", session="pg1"))
    await b.aclose()
    assert len(ws.connections) == 2
    assert "previous_response_id" in creates(ws)[2]


async def test_previous_response_not_found_resends_the_full_input(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url)
    ws.script("answer one", "answer two")
    await collect(b, request("one"))
    ws.forget()  # the server lost the connection's response
    text, _ = await collect(b, request("two"))
    await b.aclose()
    assert text == "answer two"
    _first, refused, resent = creates(ws)
    assert refused["previous_response_id"] and refused["input"] == [
        {"role": "user", "content": "two"}
    ]
    assert "previous_response_id" not in resent
    assert resent["input"] == [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "answer one"},
        {"role": "user", "content": "two"},
    ]
    assert len(ws.connections) == 1


async def test_a_socket_the_server_closed_between_turns_is_replaced_unseen(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url)
    ws.script("answer one", "answer two")
    await collect(b, request("one"))
    ws.close_all()
    await ws.wait_for_async(lambda: ws.open_connections == 0)
    await asyncio.sleep(0.05)
    text, _ = await collect(b, request("two"))
    await b.aclose()
    assert text == "answer two"
    assert len(ws.connections) == 2
    resent = creates(ws)[-1]
    assert "previous_response_id" not in resent  # a new socket: the full input
    assert [i["content"] for i in resent["input"]] == ["one", "answer one", "two"]


async def test_server_pings_are_answered_and_keep_the_socket(
    ws: ScriptedResponsesUpstream,
) -> None:
    # aiohttp pings every 0.2 s and closes a client whose pong is 0.1 s late.
    ws.configure(ping_interval=0.2)
    b = backend(ws.base_url)
    ws.script(Reply(lorem=60, rate=100.0), "again")
    assert len((await collect(b, request("one")))[0].split()) == 60  # 0.6 s: pings mid-stream
    await asyncio.sleep(0.5)  # idle: pings between turns
    assert (await collect(b, request("two")))[0] == "again"
    await b.aclose()
    assert len(ws.connections) == 1, "a ping went unanswered and the server closed"


async def test_a_close_mid_stream_is_interrupted_and_the_next_turn_works(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url)
    ws.script(Reply(tokens=["a", "b", "c", "d"], fail=Fail("drop", after=2)), "fine")
    got: list[str] = []

    async def read() -> None:
        async for d in b.stream(request("one")):
            got.append(d.text)

    with pytest.raises(InferenceError) as info:
        await read()
    assert "".join(got) == "ab"
    assert info.value.code == "upstream.interrupted" and info.value.retryable
    assert (await collect(b, request("two")))[0] == "fine"
    await b.aclose()
    assert len(ws.connections) == 2


async def test_a_close_before_the_first_event_is_resent_unseen(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url)
    ws.script(Reply(text="x", fail=Fail("close")), "after the close")
    text, _ = await collect(b, request("one"))
    await b.aclose()
    assert text == "after the close"
    assert len(ws.connections) == 2


async def test_the_connection_limit_error_reconnects_and_resends(
    ws: ScriptedResponsesUpstream,
) -> None:
    ws.configure(connection_limit=0.3)
    b = backend(ws.base_url)  # its own limit is 60 minutes: the server's error decides
    ws.script("one done", "two done")
    await collect(b, request("one"))
    await asyncio.sleep(0.4)
    text, _ = await collect(b, request("two"))
    await b.aclose()
    assert text == "two done"
    assert len(ws.connections) == 2
    assert ws.connections[0].closed_by == "server"


async def test_a_socket_is_replaced_before_it_reaches_the_limit(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url, connection_limit=0.3)
    await collect(b, request("one"))
    await asyncio.sleep(0.35)
    await collect(b, request("two"))
    await b.aclose()
    assert len(ws.connections) == 2
    assert len(creates(ws)) == 2, "the limit error was met instead of avoided"


async def test_stop_closes_the_socket_at_once_and_the_next_turn_reconnects(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url)
    ws.script(Reply(lorem=5000, rate=1000.0), "after stop")
    stream = b.stream(request("long"))
    got = 0
    async for d in stream:
        got += d.tokens
        if got >= 5:
            break
    t_close = time.monotonic()
    await stream.aclose()  # type: ignore[attr-defined]
    await ws.wait_for_async(lambda: ws.streams[0].done)
    s = ws.streams[0]
    assert s.client_disconnected and not s.completed
    assert s.tokens_after(t_close + 0.02) == 0, "the response went on after Stop"
    assert (await collect(b, request("next")))[0] == "after stop"
    await b.aclose()
    used = [c for c in ws.connections if c.responses]
    assert len(used) == 2, "the turn after Stop did not get a new socket"
    assert used[0].closed_by == "client"


async def test_one_response_in_flight_per_socket(ws: ScriptedResponsesUpstream) -> None:
    b = backend(ws.base_url)
    ws.script(Reply(lorem=30, rate=300.0), Reply(lorem=3))
    a, c = await asyncio.gather(collect(b, request("a")), collect(b, request("b")))
    await b.aclose()
    assert len(a[0].split()) == 30 and len(c[0].split()) == 3
    assert not [r for r in ws.requests if r.body.get("type") == "error"]
    assert len(ws.connections) == 1
    first, second = ws.streams
    assert first.t_end is not None and second.t_request >= first.t_end - 0.001


async def test_native_steer_continues_in_the_same_stream(ws: ScriptedResponsesUpstream) -> None:
    b = backend(ws.base_url)
    ws.script(Reply(lorem=2000, rate=500.0), Reply(text=" steered answer"))
    req = request("write a lot")
    deltas: list[Delta] = []
    steered = False
    async for d in b.stream(req):
        deltas.append(d)
        if len(deltas) == 3 and not steered:
            steered = await b.steer(req, "make it short")
            assert steered
    await b.aclose()
    marks = [i for i, d in enumerate(deltas) if d.steer == "native"]
    assert len(marks) == 1
    after = "".join(d.text for d in deltas[marks[0] :])
    assert after == " steered answer"
    assert deltas[-1].finish_reason == "stop"
    steer = next(r.body for r in ws.requests if r.body.get("type") == "response.steer")
    assert steer["input"].startswith("make it short")
    assert steer["previous_response_id"].startswith("resp_")
    assert len(ws.connections) == 1


async def test_a_refused_steer_is_handed_back(ws: ScriptedResponsesUpstream) -> None:
    ws.configure(steering=False)
    b = backend(ws.base_url)
    ws.script(Reply(lorem=2000, rate=500.0))
    req = request("write a lot")
    outcome = None
    n = 0
    stream = b.stream(req)
    async for d in stream:
        n += 1
        if n == 3:
            assert await b.steer(req, "shorter")
        if d.steer is not None:
            outcome = d.steer
            break
    await stream.aclose()  # type: ignore[attr-defined]
    assert outcome == "failed"
    # The model cannot steer: later steers go the restart way without asking.
    assert not await b.steer(req, "again")
    await b.aclose()


async def test_steer_with_nothing_in_flight_is_declined(ws: ScriptedResponsesUpstream) -> None:
    b = backend(ws.base_url)
    assert not await b.steer(request(), "x")
    await collect(b, request())
    assert not await b.steer(request(), "x")
    await b.aclose()


# --------------------------------------------------------------------------- errors


async def test_a_wrong_key_is_upstream_auth_and_never_shown(
    ws: ScriptedResponsesUpstream,
) -> None:
    ws.configure(api_key="another-key")
    b = backend(ws.base_url)
    with pytest.raises(InferenceError) as info:
        await collect(b, request())
    await b.aclose()
    assert info.value.code == "upstream.auth" and not info.value.retryable
    assert TEST_KEY not in str(info.value) and TEST_KEY not in info.value.message


@pytest.mark.parametrize(
    ("fail", "code", "retryable"),
    [
        (Fail("status", 429), "upstream.rate_limited", True),
        (Fail("status", 500), "upstream.server_error", True),
        (Fail("status", 400, code="invalid_value"), "upstream.bad_request", False),
        (Fail("status", 404, code="model_not_found"), "upstream.model_not_found", False),
        (Fail("status", 401, message=f"Incorrect API key {TEST_KEY}"), "upstream.auth", False),
        (Fail("error_event", after=2), "upstream.server_error", True),
    ],
)
async def test_error_frames_map_to_the_usual_codes(
    ws: ScriptedResponsesUpstream, fail: Fail, code: str, retryable: bool
) -> None:
    ws.script(Reply(tokens=["a", "b", "c"], fail=fail), "then fine")
    b = backend(ws.base_url)
    with pytest.raises(InferenceError) as info:
        await collect(b, request())
    assert info.value.code == code and info.value.retryable is retryable
    assert TEST_KEY not in info.value.message
    # The socket survives an error frame: the next turn goes on it.
    assert (await collect(b, request()))[0] == "then fine"
    await b.aclose()


async def test_an_unreachable_server_is_upstream_unreachable() -> None:
    b = backend(f"http://127.0.0.1:{free_port()}/v1", connect_timeout=2.0)
    with pytest.raises(InferenceError) as info:
        await collect(b, request())
    await b.aclose()
    assert info.value.code == "upstream.unreachable" and info.value.retryable


async def test_a_refused_upgrade_falls_back_to_http_streaming(
    upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    # The Chat Completions server has no /v1/responses: the upgrade gets HTTP 404.
    upstream.script("over http", "again over http")
    b = backend(upstream.base_url)
    with caplog.at_level(logging.WARNING, logger="playground.inference.responses_ws"):
        assert (await collect(b, request()))[0] == "over http"
        assert (await collect(b, request()))[0] == "again over http"
    await b.aclose()
    assert b.fallback is not None
    said = [r for r in caplog.records if "refused the WebSocket upgrade" in r.getMessage()]
    assert len(said) == 1
    assert [r.path for r in upstream.requests].count("/v1/chat/completions") == 2


async def test_a_426_upgrade_falls_back_too(ws: ScriptedResponsesUpstream) -> None:
    ws.configure(refuse_upgrade=426)
    b = backend(ws.base_url)
    with pytest.raises(InferenceError):
        await collect(b, request())  # this server has no Chat Completions either
    await b.aclose()
    assert b.fallback is not None


# --------------------------------------------------------------------------- the generation


def _generation(b: ResponsesWebSocketBackend, events: list[dict[str, Any]]) -> Generation:
    async def publish(event: dict[str, Any]) -> None:
        events.append(event)

    send: Send = publish

    def continuation(files: dict[str, str], kept: str, correction: str) -> ChatRequest:
        return ChatRequest(
            messages=(
                SYSTEM,
                Message("user", "write"),
                Message("assistant", kept),
                Message("user", correction),
            ),
            session="pg1",
        )

    return Generation(
        backend=b,
        request=request("write"),
        send=send,
        retry=RetryPolicy(0, 0.0),
        frame_interval=0.005,
        frame_max_tokens=64,
        continuation=continuation,
    )


async def _steer_generation(ws: ScriptedResponsesUpstream) -> list[dict[str, Any]]:
    b = backend(ws.base_url)
    events: list[dict[str, Any]] = []
    gen = _generation(b, events)
    gen.start()
    async with asyncio.timeout(10):
        while not any(e["type"] == "gen.delta" for e in events):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        assert gen.steer("be brief")
        assert gen.task is not None
        await gen.task
    await b.aclose()
    return events


async def test_the_generation_steers_natively_when_the_server_accepts(
    ws: ScriptedResponsesUpstream,
) -> None:
    ws.script(Reply(lorem=3000, rate=500.0), Reply(text=" brief."))
    events = await _steer_generation(ws)
    [steered] = [e for e in events if e["type"] == "gen.steered"]
    assert steered["mode"] == "native" and steered["discarded"] == 0
    assert steered["instruction"] == "be brief"
    after = events[events.index(steered) + 1 :]
    assert "".join(e["text"] for e in after if e["type"] == "gen.delta") == " brief."
    done = events[-1]
    assert done["type"] == "gen.done" and done["reason"] == "stop"
    assert done["stats"]["steer_ttft_ms"] is not None
    assert len(ws.connections) == 1, "a native steer needs no new socket"


async def test_the_generation_restarts_when_the_server_hands_the_steer_back(
    ws: ScriptedResponsesUpstream,
) -> None:
    ws.configure(steering=False)
    ws.script(Reply(lorem=3000, rate=500.0), Reply(text=" restarted."))
    events = await _steer_generation(ws)
    [steered] = [e for e in events if e["type"] == "gen.steered"]
    assert steered["mode"] == "restart"
    after = events[events.index(steered) + 1 :]
    assert "".join(e["text"] for e in after if e["type"] == "gen.delta") == " restarted."
    assert events[-1]["reason"] == "stop"
    assert ws.streams[0].client_disconnected, "the first response was not ended"
    last = creates(ws)[-1]
    assert "previous_response_id" not in last  # a new socket: the full input
    assert [i["role"] for i in last["input"]] == ["user", "assistant", "user"]


# --------------------------------------------------------------------------- the socket


@pytest.mark.django_db(transaction=True)
async def test_turns_over_the_playground_socket_share_one_upstream_socket(
    ws: ScriptedResponsesUpstream,
) -> None:
    from django.test import override_settings

    from tests.socket.test_consumer import connect, start, text_of, until_done

    config = {
        "BACKEND": "playground.inference.responses_ws.ResponsesWebSocketBackend",
        "BASE_URL": ws.base_url,
        "API_KEY": TEST_KEY,
        "MODEL": "gpt-test",
        "TIMEOUT": 5.0,
    }
    ws.script("first.", "second.")
    with override_settings(FLINT_BACKEND=config):
        comm = await connect()
        await comm.send_json_to(start("one"))
        assert text_of(await until_done(comm)) == "first."
        await comm.send_json_to(start("two"))
        assert text_of(await until_done(comm)) == "second."
        await comm.disconnect()
    assert len(ws.connections) == 1
    first, second = creates(ws)
    assert "previous_response_id" not in first
    assert second["previous_response_id"]
    assert [i["content"] for i in second["input"]] == ["two"]
    assert "index.html" in second["instructions"]  # the files go with every turn


async def test_after_a_native_steer_a_new_socket_gets_the_steered_exchange(
    ws: ScriptedResponsesUpstream,
) -> None:
    b = backend(ws.base_url)
    ws.script(Reply(lorem=2000, rate=500.0), Reply(text=" short."), "next answer")
    req = request("write a lot")
    n = 0
    async for _d in b.stream(req):
        n += 1
        if n == 3:
            assert await b.steer(req, "be brief")
    ws.close_all()
    await ws.wait_for_async(lambda: ws.open_connections == 0)
    await asyncio.sleep(0.05)
    assert (await collect(b, request("and then?")))[0] == "next answer"
    await b.aclose()
    full = creates(ws)[-1]["input"]
    assert [i["role"] for i in full] == ["user", "assistant", "user", "assistant", "user"]
    assert full[2]["content"].startswith("be brief") and full[3]["content"] == " short."


def test_events_that_carry_nothing_a_turn_needs_are_not_parsed() -> None:
    from playground.inference.responses_ws import _loads

    # in_progress repeats the whole response; not parsed (this one is not even JSON).
    assert _loads(b'{"type":"response.in_progress","response":{"instructions":"...')["type"] is None
    assert _loads(b'{"type":"response.output_text.done","text":"x"}')["type"] is None
    # What a turn reads is parsed, however the type is spelled.
    delta = b'{"type":"response.output_text.delta","delta":"hi"}'
    assert _loads(delta) == {"type": "response.output_text.delta", "delta": "hi"}
    spaced = b'{"type": "response.in_progress", "response": {}}'
    assert _loads(spaced)["type"] == "response.in_progress"
    assert _loads(b'{"type":"response.created","response":{"id":"r"}}')["response"]["id"] == "r"
