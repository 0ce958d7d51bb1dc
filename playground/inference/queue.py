"""Fair waiting for the upstream: a concurrency cap with a bounded FIFO queue.

Each backend gets at most ``cap`` generations streaming at once (a local model:
one). Others wait in line and are told their position as it changes; a full
line is refused at once with an estimate of when to try again; a cancelled
waiter (Stop) leaves the line. The queue is per server process, unless Redis is
configured (REDIS_URL, which sets FLINT_QUEUE): then the cap and the line are shared
by every process (playground/inference/queue_redis.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from django.conf import settings

from playground.errors import FlintError
from playground.registry import PerLoop, from_setting


class QueueFullError(FlintError):
    """The backend's waiting line is full: refused at once, with when to try again."""

    code = "gen.queue_full"
    status = 503

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"Flint is busy; try again in {retry_after:.0f} s.",
            retryable=True,
            retry_after=round(retry_after, 1),
        )


@dataclass(eq=False)
class _Waiter:
    on_position: Callable[[int], None]
    future: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    position: int = 0


class UpstreamQueue:
    def __init__(self, cap: int, size: int, name: str = "") -> None:
        self.cap = cap
        self.size = size
        self.active = 0
        self._waiters: deque[_Waiter] = deque()
        self._mean_hold = 10.0  # s; an estimate of one generation, refined as they end

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self, on_position: Callable[[int], None]) -> AsyncIterator[None]:
        """Hold one of the ``cap`` slots for the body; wait in line for it if needed."""
        await self._acquire(on_position)
        started = time.monotonic()
        try:
            yield
        finally:
            self.give_back(started)

    def take_now(self) -> bool:
        """Take a slot if one is free with nobody in line, without waiting (then hand it
        back with ``give_back``); False: wait in line with ``slot``."""
        if self.active < self.cap and not self._waiters:
            self.active += 1
            return True
        return False

    def give_back(self, taken_at: float) -> None:
        """Hand back a slot held since ``taken_at`` (``time.monotonic()``)."""
        held = time.monotonic() - taken_at
        self._mean_hold = 0.8 * self._mean_hold + 0.2 * held
        self._release()

    async def _acquire(self, on_position: Callable[[int], None]) -> None:
        if self.take_now():
            return
        if len(self._waiters) >= self.size:
            raise QueueFullError(self.retry_after())
        waiter = _Waiter(on_position)
        self._waiters.append(waiter)
        self._announce()
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                self._release()  # got the slot just as it was cancelled: pass it on
            else:
                self._waiters.remove(waiter)
                self._announce()
            raise

    def _release(self) -> None:
        self.active -= 1
        while self._waiters and self.active < self.cap:
            waiter = self._waiters.popleft()
            if not waiter.future.done():
                self.active += 1
                waiter.future.set_result(None)
        self._announce()

    def _announce(self) -> None:
        for position, waiter in enumerate(self._waiters, start=1):
            if waiter.position != position:
                waiter.position = position
                waiter.on_position(position)

    def retry_after(self, waiting: int | None = None) -> float:
        line = len(self._waiters) if waiting is None else waiting
        return max(1.0, self._mean_hold * (line + 1) / max(self.cap, 1))

    async def aclose(self) -> None:
        """Nothing to close in memory (the Redis line closes its client)."""


def _build(name: str, cap: int, size: int) -> UpstreamQueue:
    # FLINT_QUEUE: this class, or with REDIS_URL the line shared by every process
    # (playground.inference.queue_redis.RedisUpstreamQueue), as FLINT_HUB chooses the hub.
    queue: UpstreamQueue = from_setting(
        {**settings.FLINT_QUEUE, "NAME": name, "CAP": cap, "SIZE": size}
    )
    return queue


async def _close(queue: UpstreamQueue) -> None:
    await queue.aclose()


# Keyed by (backend name, cap, size): one line per backend and model.
queues: PerLoop[UpstreamQueue] = PerLoop(
    "upstream queues", _build, settings=("FLINT_QUEUE",), close=_close
)


def queue_for(name: str, cap: int, size: int) -> UpstreamQueue:
    """The queue of one backend on the running loop (one per process in production)."""
    return queues.get(name, cap, size)
