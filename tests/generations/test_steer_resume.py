"""Steering mid-answer, following a generation across reconnects, fair waiting."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from django.test import override_settings

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.socket.test_consumer import FILES, apply_utf16, connect, start, text_of, until_done

pytestmark = [pytest.mark.django_db(transaction=True)]

FIRST_EDIT = """First, the colour.
style.css
<<<<<<< SEARCH
p { color: red; }
=======
p { color: green; }
>>>>>>> REPLACE
Now the heading.
index.html
<<<<<<< SEARCH
<p>hi</p>
=======
<p>half-writ"""


async def receive_until(comm: Any, predicate: Any, limit: int = 10_000) -> list[dict[str, Any]]:
    seen = []
    for _ in range(limit):
        msg = await comm.receive_json_from(timeout=10)
        seen.append(msg)
        if predicate(msg):
            return seen
    raise AssertionError("predicate never matched")


async def test_a_steer_cuts_between_edits_keeps_applied_ones_and_continues(
    use_upstream: ScriptedUpstream,
) -> None:
    # The first reply stalls mid-way through its second edit, so the steer
    # lands while an edit is half-received.
    tokens = [*FIRST_EDIT.split(" ")]
    use_upstream.script(
        Reply(
            tokens=[t + " " for t in tokens],
            rate=2000,
            fail={"mode": "stall", "after": len(tokens), "seconds": 30},
        ),
        Reply(text="OK, keeping the old heading.", rate=2000),
    )
    comm = await connect()
    await comm.send_json_to(start("make it green"))
    seen: set[str] = set()

    def edit_and_half_line_seen(m: dict[str, Any]) -> bool:
        seen.update({"edit"} if m["type"] == "gen.edit" else set())
        seen.update({"half"} if "half-writ" in m.get("text", "") else set())
        return seen == {"edit", "half"}

    before = await receive_until(comm, edit_and_half_line_seen)
    await comm.send_json_to({"type": "gen.steer", "v": 1, "instruction": "keep the heading"})
    after = await until_done(comm)
    events = before + after
    steered = next(e for e in events if e["type"] == "gen.steered")
    assert steered["instruction"] == "keep the heading"
    assert steered["discarded"] > 0, "the half-written edit was cut away"
    edit = next(e for e in events if e["type"] == "gen.edit")
    assert apply_utf16(FILES["style.css"], edit["ops"]) == "p { color: green; }\n"
    assert events[-1]["reason"] == "stop"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert len({e["gen"] for e in events}) == 1
    # The upstream saw the first request closed, and a continuation carrying the
    # partial answer (cut at the safe point), the correction, and the applied edit.
    first = use_upstream.streams[-2]
    assert first.client_disconnected
    cont = use_upstream.requests[-1].messages
    assert cont[-2]["role"] == "assistant" and "color: green" in cont[-2]["content"]
    assert "half-writ" not in cont[-2]["content"]
    assert "keep the heading" in cont[-1]["content"]
    assert "p { color: green; }" in cont[0]["content"], "files carry the applied edit"
    done = events[-1]
    assert done["stats"]["steer_ttft_ms"] is not None
    await comm.disconnect()


async def test_steering_with_nothing_running_is_an_error(use_upstream: ScriptedUpstream) -> None:
    comm = await connect()
    await comm.send_json_to({"type": "gen.steer", "v": 1, "instruction": "x"})
    err = await comm.receive_json_from()
    assert err["code"] == "gen.not_running"
    await comm.disconnect()


async def test_reconnecting_at_random_points_loses_and_repeats_nothing(
    use_upstream: ScriptedUpstream,
) -> None:
    text = "".join(f"word{i} " for i in range(400))
    use_upstream.script(Reply(text=text, rate=4000))
    rng = random.Random(7)
    comm = await connect()
    pid = comm.scope["path"].split("/")[3]
    await comm.send_json_to(start())
    got: list[dict[str, Any]] = []
    gen = None
    for _ in range(6):
        for _ in range(rng.randint(1, 6)):
            msg = await comm.receive_json_from(timeout=10)
            got.append(msg)
            gen = msg["gen"]
            if msg["type"] == "gen.done":
                break
        if got[-1]["type"] == "gen.done":
            break
        await comm.disconnect()
        await asyncio.sleep(rng.random() * 0.05)
        comm = await connect(pid)  # the same playground: only its sockets may resume
        await comm.send_json_to({"type": "gen.resume", "v": 1, "gen": gen, "after": got[-1]["seq"]})
    if got[-1]["type"] != "gen.done":
        got += await until_done(comm)
    assert [e["seq"] for e in got] == list(range(1, len(got) + 1)), "no gaps, no duplicates"
    assert text_of(got) == text
    await comm.disconnect()


async def test_a_reloaded_page_learns_the_running_generation_and_replays_it(
    use_upstream: ScriptedUpstream,
) -> None:
    # Slow enough (2 s) that the generation is still running when the page is back.
    use_upstream.script(Reply(text="abc " * 400, rate=200))
    comm = await connect()
    await comm.send_json_to(start())
    first = await comm.receive_json_from()
    pid = comm.scope["path"].split("/")[3]
    await comm.disconnect()
    again = await connect(pid)
    assert again.ready["running"] == first["gen"]
    await again.send_json_to({"type": "gen.resume", "v": 1, "gen": first["gen"], "after": 0})
    events = await until_done(again)
    assert events[0]["seq"] == 1 and text_of(events) == "abc " * 400
    await again.disconnect()


async def test_resuming_an_unknown_generation_is_a_clear_error(
    use_upstream: ScriptedUpstream,
) -> None:
    comm = await connect()
    await comm.send_json_to({"type": "gen.resume", "v": 1, "gen": "g_nope"})
    err = await comm.receive_json_from()
    assert err["code"] == "gen.unknown" and "expired" in err["message"]
    await comm.disconnect()


async def test_queue_positions_with_cap_two_and_three_waiting(
    use_upstream: ScriptedUpstream,
) -> None:
    with override_settings(FLINT_MAX_CONCURRENT=2, FLINT_QUEUE_SIZE=3):
        for _ in range(6):
            use_upstream.script(Reply(lorem=150, rate=200))  # 0.75 s: the line forms first
        socks = [await connect() for _ in range(6)]
        for sock in socks:
            await sock.send_json_to(start())
            await asyncio.sleep(0.02)
        results = [await until_done(sock, wait=30) for sock in socks]
        for sock in socks:
            await sock.disconnect()
    positions = [[e["position"] for e in r if e["type"] == "gen.queued"] for r in results]
    assert positions[:2] == [[], []]
    assert positions[2] == [1] and positions[3] == [2, 1] and positions[4] == [3, 2, 1]
    full = results[5]
    err = next(e for e in full if e["type"] == "error")
    assert err["code"] == "gen.queue_full" and err["retry_after"] >= 1
    assert [r[-1]["reason"] for r in results] == ["stop"] * 5 + ["error"]


async def test_stopping_a_queued_generation_leaves_the_line(use_upstream: ScriptedUpstream) -> None:
    with override_settings(FLINT_MAX_CONCURRENT=1, FLINT_QUEUE_SIZE=3):
        use_upstream.script(Reply(lorem=200, rate=200), Reply(text="third"))
        a, b, c = [await connect() for _ in range(3)]
        await a.send_json_to(start())
        await receive_until(a, lambda m: m["type"] == "gen.delta")
        await b.send_json_to(start())
        await receive_until(b, lambda m: m["type"] == "gen.queued")
        await c.send_json_to(start())
        await receive_until(c, lambda m: m["type"] == "gen.queued" and m["position"] == 2)
        await b.send_json_to({"type": "gen.stop", "v": 1})
        b_events = await until_done(b)
        assert b_events[-1]["reason"] == "stopped"
        moved = await receive_until(c, lambda m: m["type"] == "gen.queued")
        assert moved[-1]["position"] == 1
        await a.send_json_to({"type": "gen.stop", "v": 1})
        c_events = await until_done(c)
        assert text_of(c_events) == "third"
        for sock in (a, b, c):
            await sock.disconnect()
