"""Coalescing of deltas into frames."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from playground.generations.relay import FrameRelay


class Sink:
    def __init__(self) -> None:
        self.frames: list[tuple[float, dict[str, Any]]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.frames.append((time.monotonic(), message))


def relay(sink: Sink, interval: float = 0.05, max_tokens: int = 1000) -> FrameRelay:
    return FrameRelay(sink, "g_1", interval=interval, max_tokens=max_tokens)


async def test_the_first_delta_goes_out_at_once_and_later_ones_are_batched() -> None:
    sink = Sink()
    r = relay(sink)
    task = asyncio.create_task(r.run())
    start = time.monotonic()
    r.push_text("a", 1)
    await asyncio.sleep(0.01)
    assert [m["text"] for _, m in sink.frames] == ["a"]
    assert sink.frames[0][0] - start < 0.01
    for ch in "bcdef":
        r.push_text(ch, 1)
    await asyncio.sleep(0.08)
    assert [m["text"] for _, m in sink.frames] == ["a", "bcdef"]
    assert sink.frames[1][0] - sink.frames[0][0] >= 0.045
    r.close()
    await task


async def test_a_full_batch_is_sent_without_waiting_for_the_window() -> None:
    sink = Sink()
    r = relay(sink, interval=10, max_tokens=3)
    task = asyncio.create_task(r.run())
    r.push_text("a", 1)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    for ch in "bcd":
        r.push_text(ch, 1)
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 2), 1)
    assert sink.frames[1][1]["text"] == "bcd" and sink.frames[1][1]["tokens"] == 3
    r.close()
    await task


async def test_events_keep_their_place_between_text_and_sequence_numbers_rise() -> None:
    sink = Sink()
    r = relay(sink, interval=10)
    r.push_text("before ", 1)
    r.push_event("gen.edit", path="a.py")
    r.push_text("after", 1)
    r.close()
    await r.run()
    kinds = [(m["type"], m.get("text")) for _, m in sink.frames]
    assert kinds == [("gen.delta", "before "), ("gen.edit", None), ("gen.delta", "after")]
    assert [m["seq"] for _, m in sink.frames] == [1, 2, 3]
    assert all(m["gen"] == "g_1" for _, m in sink.frames)


async def test_closing_flushes_everything_pending() -> None:
    sink = Sink()
    r = relay(sink, interval=10)
    task = asyncio.create_task(r.run())
    r.push_text("x", 1)
    await asyncio.sleep(0.01)
    r.push_text("y", 1)
    r.push_text("z", 1)
    r.close()
    await asyncio.wait_for(task, 1)
    assert "".join(m["text"] for _, m in sink.frames) == "xyz"


async def _until(cond: Any) -> None:
    while not cond():  # noqa: ASYNC110 - polling a plain list the relay appends to
        await asyncio.sleep(0.001)


async def test_a_frame_never_carries_more_than_max_tokens() -> None:
    sink = Sink()
    r = relay(sink, interval=10, max_tokens=256)
    text = "".join(f"t{i:04d}" for i in range(1000))  # one read's worth: 1,000 tokens
    r.push_text("first", 1)
    r.push_text(text, 1000)
    r.push_text("last", 1)
    r.close()
    await r.run()
    deltas = [m for _, m in sink.frames if m["type"] == "gen.delta"]
    assert "".join(m["text"] for m in deltas) == "first" + text + "last"
    assert sum(m["tokens"] for m in deltas) == 1002
    assert max(m["tokens"] for m in deltas) == 256 and len(deltas) == 4


async def test_a_full_frame_goes_out_while_the_window_is_still_open() -> None:
    sink = Sink()
    r = relay(sink, interval=10, max_tokens=4)
    task = asyncio.create_task(r.run())
    r.push_text("a", 1)
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 1), 1)
    r.push_text("bcdefghij", 9)  # two full frames: sent now, with the rest, in a 10 s window
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 4), 1)
    assert [m["tokens"] for _, m in sink.frames] == [1, 4, 4, 1]
    r.close()
    await task
    assert "".join(m["text"] for _, m in sink.frames) == "abcdefghij"


async def test_waiting_for_the_window_starts_no_task_per_delta() -> None:
    sink = Sink()
    r = relay(sink, interval=0.05)
    task = asyncio.create_task(r.run())
    r.push_text("a", 1)
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 1), 1)
    tasks = len(asyncio.all_tasks())
    for _ in range(200):
        r.push_text("x", 1)
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == tasks
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 2), 1)
    assert sink.frames[1][1]["tokens"] == 200
    r.close()
    await task


async def test_restarting_the_window_sends_the_next_text_at_once() -> None:
    sink = Sink()
    r = relay(sink, interval=10)
    task = asyncio.create_task(r.run())
    r.push_text("a", 1)
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 1), 1)
    r.push_text("b", 1)  # waits for a 10 s window...
    await asyncio.sleep(0.01)
    assert len(sink.frames) == 1
    r.restart_window()  # ...unless the window restarts (a steer's continuation)
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 2), 1)
    r.close()
    await task


async def test_an_idle_relay_sleeps_instead_of_spinning() -> None:
    sink = Sink()
    r = relay(sink, interval=0.001)
    task = asyncio.create_task(r.run())
    r.push_text("a", 1)
    await asyncio.wait_for(_until(lambda: len(sink.frames) == 1), 1)
    waits = 0
    poke = r._poke

    def counting() -> None:  # the sender calls it each time before it waits
        nonlocal waits
        waits += 1
        poke()

    r._poke = counting  # type: ignore[method-assign]
    for _ in range(5):  # past the window: a relay that spun would never yield back
        await asyncio.sleep(0.005)
    assert waits <= 1, f"the relay woke {waits} times with nothing to send"
    r.close()
    await task
