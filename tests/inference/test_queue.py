"""The fair waiting line in front of a backend."""

from __future__ import annotations

import asyncio

import pytest

from playground.inference.queue import QueueFullError, UpstreamQueue


async def test_queue_is_fifo_reports_positions_and_survives_cancel() -> None:
    queue = UpstreamQueue(cap=1, size=8)
    order: list[str] = []
    seen: list[tuple[str, int | None]] = []
    release = asyncio.Event()

    async def job(name: str, hold: bool) -> None:
        async with queue.slot(lambda pos: seen.append((f"{name}:queued", pos))):
            order.append(name)
            if hold:
                await release.wait()

    first = asyncio.create_task(job("a", hold=True))
    await asyncio.sleep(0)
    second = asyncio.create_task(job("b", hold=False))
    third = asyncio.create_task(job("c", hold=False))
    await asyncio.sleep(0.01)
    assert queue.active + queue.waiting == 3
    second.cancel()  # a closed tab leaves the line without blocking the others
    await asyncio.sleep(0.01)
    assert queue.active + queue.waiting == 2
    release.set()
    await asyncio.gather(first, third)
    with pytest.raises(asyncio.CancelledError):
        await second
    assert order == ["a", "c"]
    assert ("b:queued", 1) in seen
    assert ("c:queued", 2) in seen
    assert ("c:queued", 1) in seen  # moved up when b left
    assert queue.active + queue.waiting == 0


async def test_a_full_line_is_refused_at_once_with_a_wait() -> None:
    queue = UpstreamQueue(cap=1, size=1)
    release = asyncio.Event()

    async def hold() -> None:
        async with queue.slot(lambda pos: None):
            await release.wait()

    holder = asyncio.create_task(hold())
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    with pytest.raises(QueueFullError) as info:
        async with queue.slot(lambda pos: None):
            pass
    assert info.value.retry_after >= 1
    release.set()
    await asyncio.gather(holder, waiter)
