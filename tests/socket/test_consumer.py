"""The playground socket, driven through Channels' communicator against a real upstream."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from flint.asgi import application
from playground import persistence
from playground.models import GenerationRecord
from playground.testing.upstream import Fail, Reply, ScriptedUpstream
from tests.conftest import TEST_KEY

pytestmark = [pytest.mark.django_db(transaction=True)]

FILES = {"index.html": "<p>hi</p>\n", "style.css": "p { color: red; }\n"}


@database_sync_to_async
def new_playground() -> str:
    return persistence.playground_create("web", owner_token=OWNER).id


OWNER = "owner-token-of-this-browser-0123456789abcdef"  # the shape of a real one


async def connect(
    pid: str | None = None, origin: str = "http://127.0.0.1", owner: str = OWNER
) -> WebsocketCommunicator:
    pid = pid or await new_playground()
    comm = WebsocketCommunicator(
        application,
        f"/ws/p/{pid}/",
        headers=[
            (b"origin", origin.encode()),
            (b"host", b"127.0.0.1"),
            (b"cookie", f"flint_owner={owner}".encode()),
        ],
    )
    connected, _ = await comm.connect()
    assert connected
    ready = await comm.receive_json_from()
    assert ready["type"] == "session.ready"
    comm.ready = ready  # type: ignore[attr-defined]
    return comm


def start(instruction: str = "make it blue", **extra: Any) -> dict[str, Any]:
    return {
        "type": "gen.start",
        "v": 1,
        "instruction": instruction,
        "files": FILES,
        "active": "style.css",
        **extra,
    }


async def until_done(comm: WebsocketCommunicator, wait: float = 10) -> list[dict[str, Any]]:
    """A generation's events up to gen.done (and the allowance update after it)."""
    events = []
    while True:
        msg = await comm.receive_json_from(timeout=wait)
        events.append(msg)
        if msg["type"] == "gen.done":
            after = await comm.receive_json_from(timeout=wait)
            assert after["type"] == "allowance", after
            return events


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(e["text"] for e in events if e["type"] == "gen.delta")


async def test_it_streams_the_answer_with_generation_ids_and_sequence_numbers(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(text="Use a blue colour for the paragraph.", rate=2000))
    comm = await connect()
    await comm.send_json_to(start())
    events = await until_done(comm)
    assert events[0]["type"] == "gen.started"
    gen = events[0]["gen"]
    assert all(e["gen"] == gen for e in events)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert text_of(events) == "Use a blue colour for the paragraph."
    done = events[-1]
    assert done["reason"] == "stop" and done["partial"] is False
    assert done["stats"]["tokens"] > 0 and done["stats"]["ttft_ms"] is not None
    await comm.disconnect()


async def test_many_generations_share_one_socket(use_upstream: ScriptedUpstream) -> None:
    comm = await connect()
    gens = []
    for word in ("one", "two", "three"):
        use_upstream.script(Reply(text=f"answer {word}"))
        await comm.send_json_to(start(word))
        events = await until_done(comm)
        assert text_of(events) == f"answer {word}"
        gens.append(events[0]["gen"])
    assert len(set(gens)) == 3
    await comm.disconnect()


async def test_it_coalesces_tokens_into_far_fewer_frames(use_upstream: ScriptedUpstream) -> None:
    use_upstream.script(Reply(lorem=3000, rate=50_000))
    comm = await connect()
    await comm.send_json_to(start())
    events = await until_done(comm)
    deltas = [e for e in events if e["type"] == "gen.delta"]
    assert sum(d["tokens"] for d in deltas) == 3000
    assert len(deltas) < 3000 / 20, f"{len(deltas)} frames for 3000 tokens"
    await comm.disconnect()


async def test_the_prompt_carries_files_and_instruction_and_the_key_goes_only_upstream(
    use_upstream: ScriptedUpstream,
) -> None:
    comm = await connect()
    await comm.send_json_to(start("turn the text blue"))
    events = await until_done(comm)
    request = use_upstream.requests[-1]
    assert request.api_key == TEST_KEY
    assert request.model == "gpt-test"
    prompt = "\n".join(m["content"] for m in request.messages)
    assert "p { color: red; }" in prompt and "turn the text blue" in prompt
    # Files sit at a stable place at the start (so prompt caches hit across turns);
    # the instruction comes last.
    assert prompt.rindex("turn the text blue") > prompt.index('<file path="style.css">')
    assert TEST_KEY not in orjson.dumps(events).decode()
    await comm.disconnect()


async def test_an_answer_that_starts_copying_a_file_section_back_ends_there(
    use_upstream: ScriptedUpstream,
) -> None:
    # Real shape (qwen2.5-coder-1.5b): the right block, then the prompt's file sections.
    use_upstream.script(
        Reply(text='```css style.css\np { color: blue; }\n```\n<file path="style.css">\nx')
    )
    comm = await connect()
    await comm.send_json_to(start("turn the text blue"))
    events = await until_done(comm)
    assert use_upstream.requests[-1].body["stop"] == ['\n<file path="']
    assert "<file" not in text_of(events)
    assert [e["path"] for e in events if e["type"] == "gen.edit"] == ["style.css"]
    await comm.disconnect()


async def test_stop_closes_the_upstream_stream_and_keeps_the_partial_answer(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(lorem=100_000, rate=2000))
    comm = await connect()
    await comm.send_json_to(start())
    first = await comm.receive_json_from()
    assert first["type"] == "gen.started"
    received: list[dict[str, Any]] = []
    while sum(e.get("tokens", 0) for e in received) < 50:
        received.append(await comm.receive_json_from())
    await comm.send_json_to({"type": "gen.stop", "v": 1, "gen": first["gen"]})
    stopped_at = asyncio.get_running_loop().time()
    received += await until_done(comm)
    done = received[-1]
    assert done["reason"] == "stopped" and done["partial"] is True
    assert text_of(received)
    await use_upstream.wait_idle_async()
    stream = use_upstream.streams[-1]
    assert stream.client_disconnected
    assert stream.tokens_emitted < 100_000
    assert stream.tokens_after(stopped_at) <= 50, "upstream kept generating after Stop"
    await comm.disconnect()


async def test_an_abandoned_generation_stops_after_the_grace_period(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(lorem=100_000, rate=2000))
    with override_settings(FLINT_ORPHAN_GRACE=0.5):
        comm = await connect()
        await comm.send_json_to(start())
        await comm.receive_json_from()
        await comm.receive_json_from()
        await comm.disconnect()
        gone = asyncio.get_running_loop().time()
        await use_upstream.wait_idle_async()
    stream = use_upstream.streams[-1]
    assert stream.client_disconnected
    assert 0.4 < stream.t_disconnect - gone < 3, "kept for the grace period, then stopped"


async def test_socket_keeps_serving_while_a_generation_runs(use_upstream: ScriptedUpstream) -> None:
    use_upstream.script(Reply(lorem=100_000, rate=500))
    comm = await connect()
    await comm.send_json_to(start())
    await comm.send_json_to({"type": "ping", "v": 1, "t": 42})
    seen = []
    while True:
        msg = await comm.receive_json_from()
        seen.append(msg["type"])
        if msg["type"] == "pong":
            break
    assert msg["t"] == 42
    await comm.send_json_to(start("again"))
    while (msg := await comm.receive_json_from())["type"] != "error":
        pass
    assert msg["code"] == "gen.busy"
    await comm.send_json_to({"type": "gen.stop", "v": 1})
    events = await until_done(comm)
    assert events[-1]["reason"] == "stopped"
    await comm.disconnect()


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        ("{not json", "protocol.malformed", "not valid JSON"),
        ('{"type": "gen.launch", "v": 1}', "protocol.unknown_type", "gen.launch"),
        ('{"v": 1}', "protocol.invalid", "type"),
        ("[1, 2]", "protocol.invalid", "object"),
        (
            '{"type": "gen.start", "v": 1, "instruction": "", "files": {}}',
            "protocol.invalid",
            "instruction",
        ),
        (
            '{"type": "gen.start", "v": 1, "instruction": 5, "files": {}}',
            "protocol.invalid",
            "instruction",
        ),
        ('{"type": "gen.start", "v": 2, "instruction": "x", "files": {}}', "protocol.invalid", "v"),
        ('{"type": "ping", "v": 1, "extra": true}', "protocol.invalid", "extra"),
        ('{"type": "gen.stop", "v": 1}', "gen.not_running", "no running generation"),
    ],
)
async def test_bad_messages_get_the_canonical_error_and_the_socket_stays_healthy(
    use_upstream: ScriptedUpstream, raw: str, code: str, says: str
) -> None:
    comm = await connect()
    await comm.send_to(text_data=raw)
    err = await comm.receive_json_from()
    assert_canonical_error(err)
    assert err["code"] == code
    assert says in err["message"]
    await comm.send_json_to({"type": "ping", "v": 1, "t": 1})
    assert (await comm.receive_json_from())["type"] == "pong"
    await comm.disconnect()


def assert_canonical_error(err: dict[str, Any]) -> None:
    assert err["type"] == "error" and err["v"] == 1
    assert isinstance(err["code"], str) and "." in err["code"]
    assert isinstance(err["message"], str) and err["message"].endswith(".")
    assert isinstance(err["retryable"], bool)


async def test_oversized_messages_are_refused_with_the_limit(
    use_upstream: ScriptedUpstream,
) -> None:
    with override_settings(FLINT_MAX_MESSAGE_BYTES=1000):
        comm = await connect()
        await comm.send_json_to(start("x" * 2000))
        err = await comm.receive_json_from()
        assert_canonical_error(err)
        assert err["code"] == "protocol.too_large" and err["detail"]["limit"] == 1000
        await comm.send_json_to({"type": "ping", "v": 1})
        assert (await comm.receive_json_from())["type"] == "pong"
        await comm.disconnect()


async def test_binary_frames_are_refused(use_upstream: ScriptedUpstream) -> None:
    comm = await connect()
    await comm.send_to(bytes_data=b"\x00\x01")
    err = await comm.receive_json_from()
    assert err["code"] == "protocol.binary"
    await comm.disconnect()


async def test_a_flood_is_throttled_then_closed_with_the_policy_code(
    use_upstream: ScriptedUpstream,
) -> None:
    with override_settings(FLINT_RATE_MESSAGES=5, FLINT_RATE_WINDOW=60):
        comm = await connect()
        for _ in range(5):
            await comm.send_json_to({"type": "ping", "v": 1})
            assert (await comm.receive_json_from())["type"] == "pong"
        await comm.send_json_to({"type": "ping", "v": 1})
        err = await comm.receive_json_from()
        assert err["code"] == "protocol.rate_limited" and err["retry_after"] > 0
        for _ in range(10):
            await comm.send_json_to({"type": "ping", "v": 1})
        closed = None
        while closed is None:
            out = await comm.receive_output()
            if out["type"] == "websocket.close":
                closed = out["code"]
        assert closed == 1008


async def test_a_foreign_origin_is_rejected(use_upstream: ScriptedUpstream) -> None:
    pid = await new_playground()
    comm = WebsocketCommunicator(
        application, f"/ws/p/{pid}/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await comm.connect()
    assert not connected


async def test_an_unknown_playground_is_closed(use_upstream: ScriptedUpstream) -> None:
    comm = WebsocketCommunicator(
        application,
        "/ws/p/nope/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
    )
    connected, code = await comm.connect()
    assert not connected and code == 4404


async def run_failing(up: ScriptedUpstream, *replies: Reply) -> list[dict[str, Any]]:
    up.script(*replies)
    comm = await connect()
    await comm.send_json_to(start())
    events = await until_done(comm)
    await comm.disconnect()
    return events


@pytest.mark.parametrize(
    ("fail", "code", "retryable"),
    [
        (Fail("status", 401), "upstream.auth", False),
        (Fail("status", 403), "upstream.auth", False),
        (Fail("status", 404), "upstream.model_not_found", False),
    ],
)
async def test_permanent_upstream_errors_are_reported_once_without_retry(
    use_upstream: ScriptedUpstream, fail: Fail, code: str, retryable: bool
) -> None:
    events = await run_failing(use_upstream, Reply(fail=fail), Reply(text="should not be used"))
    err = next(e for e in events if e["type"] == "error")
    assert_canonical_error(err)
    assert err["code"] == code and err["retryable"] is retryable
    assert TEST_KEY not in err["message"]
    assert events[-1]["reason"] == "error"
    assert len(use_upstream.requests) == 1


async def test_a_rate_limit_is_retried_after_its_retry_after(
    use_upstream: ScriptedUpstream,
) -> None:
    events = await run_failing(
        use_upstream, Reply(fail=Fail("status", 429, retry_after=0.2)), Reply(text="fine now")
    )
    retry = next(e for e in events if e["type"] == "gen.retry")
    assert retry["wait"] == pytest.approx(0.2) and retry["error"]["code"] == "upstream.rate_limited"
    assert text_of(events) == "fine now" and events[-1]["reason"] == "stop"


async def test_a_long_retry_after_is_reported_not_waited(use_upstream: ScriptedUpstream) -> None:
    events = await run_failing(use_upstream, Reply(fail=Fail("status", 429, retry_after=120)))
    err = next(e for e in events if e["type"] == "error")
    assert err["code"] == "upstream.rate_limited" and err["retry_after"] == 120
    assert err["retryable"] is True


async def test_server_errors_are_retried_then_reported(use_upstream: ScriptedUpstream) -> None:
    events = await run_failing(use_upstream, *[Reply(fail=Fail("status", 503))] * 3)
    assert [e["attempt"] for e in events if e["type"] == "gen.retry"] == [1, 2]
    err = next(e for e in events if e["type"] == "error")
    assert err["code"] == "upstream.server_error" and "503" in err["message"]


async def test_a_stream_cut_mid_way_keeps_the_partial_answer_and_is_not_retried(
    use_upstream: ScriptedUpstream,
) -> None:
    events = await run_failing(
        use_upstream, Reply(lorem=50, fail=Fail("drop", after=10)), Reply(text="x")
    )
    assert len(text_of(events)) > 0
    err = next(e for e in events if e["type"] == "error")
    assert err["code"] == "upstream.interrupted"
    assert events[-1]["reason"] == "error" and events[-1]["partial"] is True
    assert len(use_upstream.requests) == 1


async def test_a_stream_that_ends_without_finishing_is_an_interruption(
    use_upstream: ScriptedUpstream,
) -> None:
    events = await run_failing(use_upstream, Reply(lorem=20, fail=Fail("truncate", after=5)))
    assert next(e for e in events if e["type"] == "error")["code"] == "upstream.interrupted"


async def test_a_stalled_stream_times_out(use_upstream: ScriptedUpstream) -> None:
    with override_settings(FLINT_BACKEND={**backend_config_for(use_upstream), "TIMEOUT": 0.5}):
        events = await run_failing(
            use_upstream, Reply(lorem=20, fail=Fail("stall", after=5, seconds=5))
        )
    assert next(e for e in events if e["type"] == "error")["code"] == "upstream.timeout"
    assert events[-1]["partial"] is True


async def test_an_error_event_in_the_stream_is_reported(use_upstream: ScriptedUpstream) -> None:
    events = await run_failing(use_upstream, Reply(lorem=20, fail=Fail("error_event", after=5)))
    err = next(e for e in events if e["type"] == "error")
    assert err["code"] == "upstream.server_error" and "mid-stream" in err["message"]


async def test_an_unreachable_server_is_reported(use_upstream: ScriptedUpstream) -> None:
    from playground.testing.servers import free_port

    dead = {**backend_config_for(use_upstream), "BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
    with override_settings(FLINT_BACKEND=dead, FLINT_RETRIES=0):
        comm = await connect()
        await comm.send_json_to(start())
        events = await until_done(comm)
        await comm.disconnect()
    err = next(e for e in events if e["type"] == "error")
    assert err["code"] == "upstream.unreachable" and err["retryable"] is True


def backend_config_for(up: ScriptedUpstream) -> dict[str, Any]:
    from tests.conftest import backend_config

    return backend_config(up)


THREE_HUNKS = """I'll make three changes.
style.css
<<<<<<< SEARCH
p { color: red; }
=======
p { color: blue; }
>>>>>>> REPLACE
index.html
<<<<<<< SEARCH
<p>hi</p>
=======
<p>hello 👋</p>
>>>>>>> REPLACE
style.css
<<<<<<< SEARCH
p { color: blue; }
=======
p { color: blue;
>>>>>>> REPLACE
Done.
"""


async def test_finished_edits_stream_as_ops_and_a_breaking_one_is_rejected(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(text=THREE_HUNKS, rate=5000))
    comm = await connect()
    await comm.send_json_to(start())
    events = await until_done(comm)
    edits = [e for e in events if e["type"] in ("gen.edit", "gen.edit_rejected")]
    assert [e["type"] for e in edits] == ["gen.edit", "gen.edit", "gen.edit_rejected"]
    css, html, broken = edits
    assert css["path"] == "style.css"
    assert css["ops"] == [{"from": 11, "to": 14, "insert": "blue"}], "a minimal change"
    assert apply_utf16(FILES["style.css"], css["ops"]) == "p { color: blue; }\n"
    assert html["path"] == "index.html"
    assert apply_utf16(FILES["index.html"], html["ops"]) == "<p>hello 👋</p>\n"
    assert broken["path"] == "style.css" and broken["hunk"] == 3
    assert "syntax" in broken["reason"].lower() and broken["snippet"]
    # Edits arrive in the answer's order, between the deltas around them.
    kinds = [e["type"] for e in events]
    assert kinds.index("gen.edit") > kinds.index("gen.delta")
    await comm.disconnect()


def apply_utf16(text: str, ops: list[dict[str, Any]]) -> str:
    """Apply wire ops the way the browser does: offsets in UTF-16 code units."""
    units = text.encode("utf-16-le")
    for op in sorted(ops, key=lambda o: o["from"], reverse=True):
        units = units[: op["from"] * 2] + op["insert"].encode("utf-16-le") + units[op["to"] * 2 :]
    return units.decode("utf-16-le")


async def test_a_viewer_can_follow_but_not_write(use_upstream: ScriptedUpstream) -> None:
    pid = await new_playground()
    viewer = await connect(pid, owner="someone-else-0123456789abcdefghijklmnop")
    for message in (
        start(),
        {"type": "gen.steer", "v": 1, "instruction": "x"},
        {"type": "gen.stop", "v": 1},
        {"type": "files.save", "v": 1, "files": {"a.py": "x"}, "base_version": 1},
    ):
        await viewer.send_json_to(message)
        err = await viewer.receive_json_from()
        assert err["code"] == "auth.forbidden", message
    assert use_upstream.requests == []
    assert (await database_sync_to_async(persistence.playground_get)(pid)).version == 1
    await viewer.disconnect()


async def test_saves_are_compare_and_swap_and_the_loser_gets_the_server_copy(
    use_upstream: ScriptedUpstream,
) -> None:
    pid = await new_playground()
    tab_a, tab_b = await connect(pid), await connect(pid)
    await tab_a.send_json_to({"type": "files.save", "files": {"a.py": "A\n"}, "base_version": 1})
    saved = await tab_a.receive_json_from()
    assert saved == {"v": 1, "type": "files.saved", "version": 2, "saved": True}
    await tab_b.send_json_to({"type": "files.save", "files": {"a.py": "B\n"}, "base_version": 1})
    conflict = await tab_b.receive_json_from()
    assert conflict["code"] == "save.conflict"
    assert conflict["detail"] == {"server_version": 2, "server_files": {"a.py": "A\n"}}
    for tab in (tab_a, tab_b):
        await tab.disconnect()


async def test_a_generation_is_recorded_with_its_answer(use_upstream: ScriptedUpstream) -> None:
    use_upstream.script(Reply(text="recorded answer"))
    comm = await connect()
    await comm.send_json_to(start("remember me"))
    events = await until_done(comm)
    assert await persistence.records_flushed()  # written after gen.done, on its own thread
    record = await database_sync_to_async(
        lambda: GenerationRecord.objects.get(id=events[0]["gen"])
    )()
    assert (record.instruction, record.answer, record.status) == (
        "remember me",
        "recorded answer",
        "done",
    )
    await comm.disconnect()
