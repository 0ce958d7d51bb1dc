"""The upstream's waiting line shared by every Flint process, in Redis (issue #15).

Same contract as :class:`playground.inference.queue.UpstreamQueue` (``slot``,
``active``, ``waiting``, ``retry_after``), but the cap counts the streams of *all*
processes and the line is one FIFO across them, so a queue position is true
whichever process a browser reached.

Keys, per backend line ``name``:

- ``…:ticket``: a counter; each waiter takes the next number (FIFO order).
- ``…:line``: ZSET waiter id -> ticket.
- ``…:held``: ZSET holder id -> lease deadline (ms). A holder renews its lease while
  it streams; a process killed mid-stream frees its slot when the lease runs out.
- ``…:alive``: ZSET waiter id -> deadline (ms), renewed at each poll; a waiter whose
  process died leaves the line when it runs out.

One Lua script does the whole decision (purge the dead, then take a free slot if this
waiter is within reach of one, else report its place), so two processes never hand
out the same slot. A waiter polls every ``poll`` seconds and is woken at once by a
message on ``…:freed`` when a slot is released, so a free slot is taken in about one
round trip, not one poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis

from playground.inference.queue import QueueFullError, UpstreamQueue
from playground.registry import redis_retry

LEASE = 15.0  # s a holder's slot survives its process
POLL = 0.5  # s between a waiter's checks when no release wakes it

# KEYS: line held alive; ARGV: id now_ms cap alive_deadline_ms hold_deadline_ms size
# -> {1, 0}: granted; {0, position}: waiting at position; {-1, waiting}: line full.
_TAKE = """
local line, held, alive = KEYS[1], KEYS[2], KEYS[3]
local id, now, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
local dead = redis.call('ZRANGEBYSCORE', alive, '-inf', now)
for _, w in ipairs(dead) do
  redis.call('ZREM', line, w)
  redis.call('ZREM', alive, w)
end
local rank = redis.call('ZRANK', line, id)
if not rank then
  local waiting = redis.call('ZCARD', line)
  local busy = redis.call('ZCARD', held)
  if busy < cap and waiting == 0 then
    redis.call('ZADD', held, tonumber(ARGV[5]), id)
    return {1, 0}
  end
  if waiting >= tonumber(ARGV[6]) then
    return {-1, waiting}
  end
  local ticket = redis.call('INCR', line .. ':ticket')
  redis.call('ZADD', line, ticket, id)
  rank = redis.call('ZRANK', line, id)
end
redis.call('ZADD', alive, tonumber(ARGV[4]), id)
local free = cap - redis.call('ZCARD', held)
if rank < free then
  redis.call('ZREM', line, id)
  redis.call('ZREM', alive, id)
  redis.call('ZADD', held, tonumber(ARGV[5]), id)
  return {1, 0}
end
return {0, rank + 1}
"""


class RedisUpstreamQueue(UpstreamQueue):
    """A concurrency cap and FIFO line shared by every process on one Redis."""

    def __init__(
        self,
        name: str,
        cap: int,
        size: int,
        *,
        url: str,
        lease: float = LEASE,
        poll: float = POLL,
    ) -> None:
        super().__init__(cap, size)
        self.lease = lease
        self.poll = poll
        self.redis: Any = aioredis.from_url(url, retry=redis_retry())
        prefix = f"flint:queue:{name}"
        self._keys = (f"{prefix}:line", f"{prefix}:held", f"{prefix}:alive")
        self._freed = f"{prefix}:freed"
        self._take = self.redis.register_script(_TAKE)
        self._local_waiting = 0  # this process's waiters (``active``: its holders)

    @property
    def waiting(self) -> int:
        return self._local_waiting

    def take_now(self) -> bool:
        return False  # the line is in Redis: asked only through ``slot``

    @asynccontextmanager
    async def slot(self, on_position: Callable[[int], None]) -> AsyncIterator[None]:
        """Hold one of the ``cap`` slots (across processes); wait in line for it if needed."""
        me = uuid.uuid4().hex
        await self._wait_for_slot(me, on_position)
        self.active += 1
        started = time.monotonic()
        renew = asyncio.create_task(self._renew(me))
        try:
            yield
        finally:
            renew.cancel()
            self.active -= 1
            held = time.monotonic() - started
            self._mean_hold = 0.8 * self._mean_hold + 0.2 * held
            await asyncio.shield(self._give_back(me))

    async def _call(self, me: str) -> tuple[int, int]:
        now = int(time.time() * 1000)
        alive = now + int(max(self.poll * 4, 2.0) * 1000)
        hold = now + int(self.lease * 1000)
        granted, value = await self._take(
            keys=self._keys, args=[me, now, self.cap, alive, hold, self.size]
        )
        return int(granted), int(value)

    async def _wait_for_slot(self, me: str, on_position: Callable[[int], None]) -> None:
        granted, value = await self._call(me)
        if granted == 1:
            return
        if granted == -1:
            raise QueueFullError(self.retry_after(value))
        self._local_waiting += 1
        pubsub = self.redis.pubsub()
        position = 0
        try:
            await pubsub.subscribe(self._freed)
            while True:
                if value != position:
                    position = value
                    on_position(position)
                # Woken by a release anywhere, or after `poll` to renew our place.
                with contextlib.suppress(TimeoutError):
                    await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll)
                granted, value = await self._call(me)
                if granted == 1:
                    return
        except BaseException:
            await asyncio.shield(self._leave(me))
            raise
        finally:
            self._local_waiting -= 1
            with contextlib.suppress(Exception):
                await asyncio.shield(pubsub.aclose())

    async def _renew(self, me: str) -> None:
        held = self._keys[1]
        while True:
            await asyncio.sleep(self.lease / 3)
            deadline = int((time.time() + self.lease) * 1000)
            with contextlib.suppress(Exception):  # Redis away: the lease runs out, never a crash
                await self.redis.zadd(held, {me: deadline}, xx=True)

    async def _give_back(self, me: str) -> None:
        with contextlib.suppress(Exception):
            pipe = self.redis.pipeline(transaction=False)
            pipe.zrem(self._keys[1], me)
            pipe.publish(self._freed, me)
            await pipe.execute()

    async def _leave(self, me: str) -> None:
        with contextlib.suppress(Exception):
            pipe = self.redis.pipeline(transaction=False)
            pipe.zrem(self._keys[0], me)
            pipe.zrem(self._keys[2], me)
            pipe.zrem(self._keys[1], me)  # granted just as it was cancelled: pass it on
            pipe.publish(self._freed, me)
            await pipe.execute()

    def retry_after(self, waiting: int | None = None) -> float:
        line = self._local_waiting if waiting is None else waiting
        return max(1.0, self._mean_hold * (line + 1) / max(self.cap, 1))

    async def aclose(self) -> None:
        await self.redis.aclose()
