"""Per-user and per-IP limits on generations and tokens, in the shared store.

Built on the ``limits`` library (well kept, atomic in Redis): moving windows for
the number of generations and a sliding-window counter weighted by tokens for
token use. We use windows rather than hand-rolling token buckets: the same
"N per period with a smooth refill" behaviour, maintained upstream. With
REDIS_URL the counters are shared by every server process; without it they live
in the one process (the default single-process deployment).

The same limiter guards the socket and the HTTP endpoint.

In memory the counters live in ``SweepingMemoryStorage``: the library's
``MemoryStorage`` with its expiry replaced. The library's walks every key it
holds after each hit (with a thread hop per key), about 0.1 ms per remembered
browser per turn; ours drops expired keys a few at a time, least recently used
first, so a turn costs the same with 10 or 10,000 browsers remembered
(``bench/quotas_bench.py``). In Redis the keys expire by themselves.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.memory import Entry
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.limits import safe_string

from playground.registry import PerLoop, redis_retry


class SweepingMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose per-hit cost does not grow with the keys it holds.

    Every write records the key in an LRU order with the time its data expires;
    after each write the two least recently used keys are dropped if expired. The
    library's own expiry task (a walk over every key) is never started.
    """

    STORAGE_SCHEME = ["async+flint-memory"]
    SWEEP = 2  # expired keys dropped per write at most

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **_)
        self._lru: OrderedDict[str, float] = OrderedDict()  # key -> when its data expires

    def _touch(self, key: str, until: float) -> None:
        lru = self._lru
        lru[key] = max(until, lru.pop(key, 0.0))  # re-inserted: now the most recent
        now = time.time()
        for _ in range(self.SWEEP):
            oldest = next(iter(lru), None)
            if oldest is None or lru[oldest] > now:
                return
            del lru[oldest]
            self.storage.pop(oldest, None)
            self.expirations.pop(oldest, None)
            self.events.pop(oldest, None)
            self.locks.pop(oldest, None)

    # The library's operations, synchronous: the in-memory ``Limiter`` calls these
    # directly (no coroutine per call), the async ones below are the library's API.
    # Nothing in them awaits, so on the event loop each runs whole, as under its lock.

    def count_now(self, key: str) -> int:
        """The counter ``key`` (``get``): 0 once it has expired."""
        if self.expirations.get(key, 0) <= time.time():
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)
        return self.storage.get(key, 0)

    def incr_now(self, key: str, expiry: float, amount: int = 1) -> int:
        self.count_now(key)  # drops the key if it has expired
        self.storage[key] += amount
        if self.storage[key] == amount:
            self.expirations[key] = time.time() + expiry
        self._touch(key, self.expirations[key])
        return self.storage.get(key, amount)

    def decr_now(self, key: str, amount: int = 1) -> int:
        self.count_now(key)
        self.storage[key] = max(self.storage[key] - amount, 0)
        return self.storage.get(key, amount)

    def acquire_entry_now(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        events = self.events.setdefault(key, [])
        timestamp = time.time()
        entry = events[limit - amount] if len(events) > limit - amount else None
        if entry is not None and entry.atime >= timestamp - expiry:
            return False
        events[:0] = [Entry(expiry)] * amount
        del events[limit:]  # entries past the limit-th newest never decide anything
        self._touch(key, timestamp + expiry)
        return True

    def moving_window_now(self, key: str, expiry: int) -> tuple[float, int]:
        """(start of the window, entries in it), as ``get_moving_window``."""
        timestamp = time.time()
        if events := self.events.get(key, []):
            oldest = bisect.bisect_left(events, -(timestamp - expiry), key=lambda e: -e.atime)
            return events[oldest - 1].atime, oldest
        return timestamp, 0

    def sliding_window_now(
        self, key: str, expiry: int, now: float | None = None
    ) -> tuple[int, float, int, float]:
        """(previous count, its ttl, current count, its ttl), as ``get_sliding_window``."""
        now = time.time() if now is None else now
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous_count = self.count_now(previous_key)
        current_count = self.count_now(current_key)
        previous_ttl = 0.0
        if previous_count:
            previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous_count, previous_ttl, current_count, current_ttl

    def acquire_sliding_window_entry_now(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = time.time()
        _, current_key = self.sliding_window_keys(key, expiry, now)
        previous, previous_ttl, current, _ = self.sliding_window_now(key, expiry, now)
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        current = self.incr_now(current_key, 2 * expiry, amount=amount)
        if math.floor(previous * previous_ttl / expiry + current) > limit:
            self.decr_now(current_key, amount)
            return False
        return True

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        return self.incr_now(key, expiry, amount)

    async def decr(self, key: str, amount: int = 1) -> int:
        return self.decr_now(key, amount)

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return self.acquire_entry_now(key, limit, expiry, amount)


@dataclass(frozen=True)
class Refusal:
    what: str  # "generations" | "tokens"
    who: str  # "user" | "ip"
    retry_after: float

    def message(self) -> str:
        subject = "this browser" if self.who == "user" else "your network address"
        return f"Too many {self.what} from {subject}; the limit resets in {self.retry_after:.0f} s."


class Limiter:
    def __init__(
        self, storage: Storage, config: dict[str, str], pool: aioredis.ConnectionPool | None = None
    ) -> None:
        self._pool = pool
        # In memory, admit, charge and allowance count in the storage directly: twelve
        # library calls a turn, each a chain of coroutines, cost ~0.1 ms of the turn.
        self._memory = storage if isinstance(storage, SweepingMemoryStorage) else None
        self._ends: dict[RateLimitItem, tuple[str, str]] = {}
        self.gens = MovingWindowRateLimiter(storage)
        self.tokens = SlidingWindowCounterRateLimiter(storage)
        self.items: dict[tuple[str, str], RateLimitItem] = {
            (what, who): parse(config[f"{what}_{who}"])
            for what in ("generations", "tokens")
            for who in ("user", "ip")
        }

    def _keys(self, user: str | None, ip: str | None) -> list[tuple[str, str]]:
        return [(who, key) for who, key in (("user", user), ("ip", ip)) if key]

    async def _all(self, calls: list[Any]) -> list[Any]:
        # In Redis every call is a round trip: send them at once (one round trip of
        # latency, not one per call). In memory they cost microseconds: in order.
        if self._pool is None:
            return [await call for call in calls]
        return list(await asyncio.gather(*calls))

    async def admit(self, user: str | None, ip: str | None) -> Refusal | None:
        """Count one generation, unless a window is exhausted; then say until when."""
        if self._memory is not None:
            return await self._admit_now(self._memory, user, ip)
        keys = self._keys(user, ip)
        checks = []
        for who, key in keys:
            checks.append(self.tokens.test(self.items[("tokens", who)], who, key))
            checks.append(self.gens.test(self.items[("generations", who)], who, key))
        passed = await self._all(checks)
        for i, (who, key) in enumerate(keys):
            if not passed[2 * i]:
                return Refusal("tokens", who, await self._reset_in(self.tokens, "tokens", who, key))
            if not passed[2 * i + 1]:
                wait = await self._reset_in(self.gens, "generations", who, key)
                return Refusal("generations", who, wait)
        await self._all(
            [self.gens.hit(self.items[("generations", who)], who, key) for who, key in keys]
        )
        return None

    async def charge(self, user: str | None, ip: str | None, tokens: int) -> None:
        """Count the tokens a finished generation used (the next admit sees them)."""
        if tokens <= 0:
            return
        if self._memory is not None:
            for who, key in self._keys(user, ip):
                item = self.items[("tokens", who)]
                self._memory.acquire_sliding_window_entry_now(
                    self._key(item, who, key),
                    item.amount,
                    item.get_expiry(),
                    min(tokens, item.amount),
                )
            return
        hits = []
        for who, key in self._keys(user, ip):
            item = self.items[("tokens", who)]
            # Never charge more than the whole window, so one huge answer does
            # not lock a user out for longer than one period.
            hits.append(self.tokens.hit(item, who, key, cost=min(tokens, item.amount)))
        await self._all(hits)

    async def allowance(self, user: str | None, ip: str | None) -> dict[str, Any]:
        """What is left, for the page to show (the tighter of user and IP)."""
        if self._memory is not None:
            return self._allowance_now(self._memory, user, ip)
        keys = self._keys(user, ip)
        kinds = (("generations", self.gens), ("tokens", self.tokens))
        stats = await self._all(
            [
                limiter.get_window_stats(self.items[(what, who)], who, key)
                for what, limiter in kinds
                for who, key in keys
            ]
        )
        out: dict[str, Any] = {}
        for n, (what, _limiter) in enumerate(kinds):
            remaining = [s.remaining for s in stats[n * len(keys) : (n + 1) * len(keys)]]
            out[what] = min(remaining) if remaining else None
        return out

    # --- in memory: the same windows, counted synchronously (SweepingMemoryStorage) ----

    def _key(self, item: RateLimitItem, who: str, key: str) -> str:
        # item.key_for(who, key), with the item's own part built once.
        ends = self._ends.get(item)
        if ends is None:
            tail = "/".join([safe_string(item.amount), safe_string(item.multiples)])
            ends = self._ends[item] = (item.namespace, f"{tail}/{item.GRANULARITY.name}")
        return f"{ends[0]}/{who}/{key}/{ends[1]}"

    async def _admit_now(
        self, memory: SweepingMemoryStorage, user: str | None, ip: str | None
    ) -> Refusal | None:
        keys = self._keys(user, ip)
        for who, key in keys:  # the library's tests, tokens then generations, in order
            item = self.items[("tokens", who)]
            previous, previous_ttl, current, _ = memory.sliding_window_now(
                self._key(item, who, key), item.get_expiry()
            )
            if not previous * previous_ttl / item.get_expiry() + current < item.amount:
                return Refusal("tokens", who, await self._reset_in(self.tokens, "tokens", who, key))
            item = self.items[("generations", who)]
            _, count = memory.moving_window_now(self._key(item, who, key), item.get_expiry())
            if not count <= item.amount - 1:
                wait = await self._reset_in(self.gens, "generations", who, key)
                return Refusal("generations", who, wait)
        for who, key in keys:
            item = self.items[("generations", who)]
            memory.acquire_entry_now(self._key(item, who, key), item.amount, item.get_expiry())
        return None

    def _allowance_now(
        self, memory: SweepingMemoryStorage, user: str | None, ip: str | None
    ) -> dict[str, Any]:
        keys = self._keys(user, ip)
        gens, tokens = [], []
        for who, key in keys:
            item = self.items[("generations", who)]
            _, count = memory.moving_window_now(self._key(item, who, key), item.get_expiry())
            gens.append(item.amount - count)
            item = self.items[("tokens", who)]
            expiry = item.get_expiry()
            previous, previous_ttl, current, _ = memory.sliding_window_now(
                self._key(item, who, key), expiry
            )
            used = math.floor(previous * previous_ttl / expiry + current)
            tokens.append(max(0, item.amount - used))
        return {
            "generations": min(gens) if gens else None,
            "tokens": min(tokens) if tokens else None,
        }

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def _reset_in(self, limiter: Any, what: str, who: str, key: str) -> float:
        stats = await limiter.get_window_stats(self.items[(what, who)], who, key)
        return max(1.0, float(stats.reset_time) - time.time())


def _build() -> Limiter:
    storage: Storage
    pool = None
    if settings.FLINT_REDIS_URL:
        # Our own pool, so it can be closed with the loop that opened it.
        # Retried on a new connection (as redis-py's own clients are): after a Redis
        # restart the pooled connections are dead, and the next admit must not fail.
        # Bounded and blocking: a burst of sockets (each allowance reads four windows
        # at once) waits for a free connection instead of failing with "Too many
        # connections", which closed the sockets that asked (bench/scaled_bench.py).
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.FLINT_REDIS_URL, retry=redis_retry(), max_connections=64, timeout=10
        )
        uri = "async+" + settings.FLINT_REDIS_URL
        storage = RedisStorage(
            uri,
            implementation="redispy",
            key_prefix="flint-limits",
            connection_pool=pool,  # type: ignore[arg-type]  # passed on to redis-py
        )
    else:
        storage = SweepingMemoryStorage()
    return Limiter(storage, settings.FLINT_LIMITS, pool)


async def _close(limiter: Limiter) -> None:
    await limiter.aclose()


limiters: PerLoop[Limiter] = PerLoop(
    "quotas", _build, settings=("FLINT_LIMITS", "FLINT_REDIS_URL"), close=_close
)


def get_limiter() -> Limiter:
    """The limiter for the running event loop (shared through Redis when configured)."""
    return limiters.get()
