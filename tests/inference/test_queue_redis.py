"""The upstream's line shared by processes, on the machine's real Redis (issue #15).

Each RedisUpstreamQueue here has its own Redis client, as each Daphne process would;
the killed-process cases use real processes killed with SIGKILL. Lines are named by
random ids in a database of their own and deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from playground.inference.queue import QueueFullError, queue_for
from playground.inference.queue_redis import RedisUpstreamQueue

REDIS_URL = "redis://127.0.0.1:6379/11"
REPO = Path(__file__).resolve().parents[2]


def _redis_missing() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at {REDIS_URL}: {exc}"
    return None


pytestmark = pytest.mark.skipif(bool(_redis_missing()), reason=str(_redis_missing()))


@pytest.fixture
async def line() -> AsyncIterator[Callable[..., RedisUpstreamQueue]]:
    name = f"test-{uuid.uuid4().hex}"
    made: list[RedisUpstreamQueue] = []

    def make(cap: int = 1, size: int = 8, **kw: Any) -> RedisUpstreamQueue:
        queue = RedisUpstreamQueue(name, cap, size, url=REDIS_URL, **kw)
        made.append(queue)
        return queue

    yield make
    for queue in made:
        await queue.aclose()
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"flint:queue:{name}*"))
    if keys:
        client.delete(*keys)


async def _until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_one_cap_and_one_fifo_line_across_processes(line: Any) -> None:
    # Three "processes" (clients), cap 1: the positions are global, and a release
    # on one process hands the slot to the next in line on another, at once.
    a, b, c = line(), line(), line()
    order: list[str] = []
    seen: dict[str, list[int]] = {"b": [], "c": []}
    release = {name: asyncio.Event() for name in "abc"}

    async def job(queue: RedisUpstreamQueue, name: str) -> float:
        async with queue.slot(lambda pos: seen.setdefault(name, []).append(pos)):
            got = time.monotonic()
            order.append(name)
            await release[name].wait()
            return got

    first = asyncio.create_task(job(a, "a"))
    await _until(lambda: order == ["a"])
    second = asyncio.create_task(job(b, "b"))
    await _until(lambda: seen["b"] == [1])
    third = asyncio.create_task(job(c, "c"))
    await _until(lambda: seen["c"] == [2])
    assert (a.active, b.waiting, c.waiting) == (1, 1, 1)

    released = time.monotonic()
    release["a"].set()
    await first
    got_b = await _until_value(lambda: order == ["a", "b"])
    assert got_b - released < b.poll, "woken by the release, not by its next poll"
    await _until(lambda: seen["c"] == [2, 1])  # moved up when b took the slot
    release["b"].set()
    release["c"].set()
    await asyncio.gather(second, third)
    assert order == ["a", "b", "c"]


async def _until_value(predicate: Callable[[], bool]) -> float:
    await _until(predicate)
    return time.monotonic()


async def test_a_cancelled_waiter_leaves_the_line_for_every_process(line: Any) -> None:
    a, b, c = line(), line(), line()
    release = asyncio.Event()
    positions: list[int] = []

    async def hold() -> None:
        async with a.slot(lambda pos: None):
            await release.wait()

    holder = asyncio.create_task(hold())
    await _until(lambda: a.active == 1)

    async def wait_on(queue: RedisUpstreamQueue, sink: list[int]) -> None:
        async with queue.slot(sink.append):
            pass

    leaving = asyncio.create_task(wait_on(b, []))
    await _until(lambda: b.waiting == 1)
    staying = asyncio.create_task(wait_on(c, positions))
    await _until(lambda: positions == [2])
    leaving.cancel()  # a closed tab
    with pytest.raises(asyncio.CancelledError):
        await leaving
    await _until(lambda: positions == [2, 1])
    release.set()
    await asyncio.gather(holder, staying)


async def test_a_full_line_is_refused_at_once_whichever_process_asks(line: Any) -> None:
    a, b = line(size=1), line(size=1)
    release = asyncio.Event()

    async def hold(queue: RedisUpstreamQueue) -> None:
        async with queue.slot(lambda pos: None):
            await release.wait()

    holder = asyncio.create_task(hold(a))
    await _until(lambda: a.active == 1)
    waiter = asyncio.create_task(hold(a))
    await _until(lambda: a.waiting == 1)
    started = time.monotonic()
    with pytest.raises(QueueFullError) as info:
        async with b.slot(lambda pos: None):
            pass
    assert time.monotonic() - started < 1.0
    assert info.value.retry_after >= 1
    release.set()
    await asyncio.gather(holder, waiter)


def _child(name: str, *, lease: float, state: str) -> subprocess.Popen[bytes]:
    """A process that takes a slot (or a place in line) on ``name``, then sleeps."""
    code = textwrap.dedent(f"""
        import asyncio, sys
        from playground.inference.queue_redis import RedisUpstreamQueue
        async def main():
            queue = RedisUpstreamQueue({name!r}, 1, 8, url={REDIS_URL!r}, lease={lease})
            async with queue.slot(lambda pos: print("queued", pos, flush=True)):
                print("holding", flush=True)
                await asyncio.sleep(3600)
        asyncio.run(main())
    """)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flint.settings", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    assert line.startswith(state), line
    return proc


async def test_a_slot_held_by_a_killed_process_frees_when_its_lease_runs_out(
    line: Any,
) -> None:
    queue = line(lease=1.0, poll=0.2)
    name = queue._keys[0].split(":")[2]
    child = await asyncio.to_thread(_child, name, lease=1.0, state="holding")
    try:
        positions: list[int] = []
        task = asyncio.create_task(_hold_once(queue, positions))
        await _until(lambda: positions == [1])
        child.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.wait_for(task, 5)
        assert time.monotonic() - killed < 1.0 + 1.0, "the lease (1 s) plus a poll or two"
    finally:
        _end(child)


async def test_a_waiter_of_a_killed_process_leaves_the_line(line: Any) -> None:
    holder, behind = line(poll=0.2), line(poll=0.2)
    name = holder._keys[0].split(":")[2]
    release = asyncio.Event()

    async def hold() -> None:
        async with holder.slot(lambda pos: None):
            await release.wait()

    held = asyncio.create_task(hold())
    await _until(lambda: holder.active == 1)
    child = await asyncio.to_thread(_child, name, lease=15.0, state="queued 1")
    try:
        positions: list[int] = []
        task = asyncio.create_task(_hold_once(behind, positions))
        await _until(lambda: positions == [2])
        child.send_signal(signal.SIGKILL)
        await _until(lambda: positions == [2, 1], within=5)  # its place expired
        release.set()
        await asyncio.wait_for(task, 5)
        await held
    finally:
        _end(child)


def _end(child: subprocess.Popen[bytes]) -> None:
    child.kill()
    child.wait()
    if child.stdout is not None:
        child.stdout.close()


async def _hold_once(queue: RedisUpstreamQueue, positions: list[int]) -> None:
    async with queue.slot(positions.append):
        pass


async def test_the_queue_setting_picks_the_shared_line(settings: Any) -> None:
    settings.FLINT_QUEUE = {
        "BACKEND": "playground.inference.queue_redis.RedisUpstreamQueue",
        "URL": REDIS_URL,
    }
    queue = queue_for(f"test-{uuid.uuid4().hex}", 2, 4)
    assert isinstance(queue, RedisUpstreamQueue) and queue.cap == 2 and queue.size == 4
    await queue.aclose()
    settings.FLINT_QUEUE = {"BACKEND": "playground.inference.queue.UpstreamQueue"}
    assert not isinstance(queue_for("memory", 2, 4), RedisUpstreamQueue)
