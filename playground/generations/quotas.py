"""Per-user and per-IP limits on generations and tokens, in the shared store.

Built on the ``limits`` library (well kept, atomic in Redis): moving windows for
the number of generations and a sliding-window counter weighted by tokens for
token use. We use windows rather than hand-rolling token buckets: the same
"N per period with a smooth refill" behaviour, maintained upstream. With
REDIS_URL the counters are shared by every server process; without it they live
in the one process (the default single-process deployment).

The same limiter guards the socket and the HTTP endpoint.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from playground.registry import PerLoop


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
        self.gens = MovingWindowRateLimiter(storage)
        self.tokens = SlidingWindowCounterRateLimiter(storage)
        self.items: dict[tuple[str, str], RateLimitItem] = {
            (what, who): parse(config[f"{what}_{who}"])
            for what in ("generations", "tokens")
            for who in ("user", "ip")
        }

    def _keys(self, user: str | None, ip: str | None) -> list[tuple[str, str]]:
        return [(who, key) for who, key in (("user", user), ("ip", ip)) if key]

    async def admit(self, user: str | None, ip: str | None) -> Refusal | None:
        """Count one generation, unless a window is exhausted; then say until when."""
        for who, key in self._keys(user, ip):
            if not await self.tokens.test(self.items[("tokens", who)], who, key):
                return Refusal("tokens", who, await self._reset_in(self.tokens, "tokens", who, key))
            if not await self.gens.test(self.items[("generations", who)], who, key):
                wait = await self._reset_in(self.gens, "generations", who, key)
                return Refusal("generations", who, wait)
        for who, key in self._keys(user, ip):
            await self.gens.hit(self.items[("generations", who)], who, key)
        return None

    async def charge(self, user: str | None, ip: str | None, tokens: int) -> None:
        """Count the tokens a finished generation used (the next admit sees them)."""
        if tokens <= 0:
            return
        for who, key in self._keys(user, ip):
            item = self.items[("tokens", who)]
            # Never charge more than the whole window, so one huge answer does
            # not lock a user out for longer than one period.
            await self.tokens.hit(item, who, key, cost=min(tokens, item.amount))

    async def allowance(self, user: str | None, ip: str | None) -> dict[str, Any]:
        """What is left, for the page to show (the tighter of user and IP)."""
        out: dict[str, Any] = {}
        for what, limiter in (("generations", self.gens), ("tokens", self.tokens)):
            remaining = []
            for who, key in self._keys(user, ip):
                stats = await limiter.get_window_stats(self.items[(what, who)], who, key)
                remaining.append(stats.remaining)
            out[what] = min(remaining) if remaining else None
        return out

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
        pool = aioredis.ConnectionPool.from_url(settings.FLINT_REDIS_URL)
        uri = "async+" + settings.FLINT_REDIS_URL
        storage = RedisStorage(
            uri,
            implementation="redispy",
            key_prefix="flint-limits",
            connection_pool=pool,  # type: ignore[arg-type]  # passed on to redis-py
        )
    else:
        storage = MemoryStorage()
    return Limiter(storage, settings.FLINT_LIMITS, pool)


async def _close(limiter: Limiter) -> None:
    await limiter.aclose()


limiters: PerLoop[Limiter] = PerLoop(
    "quotas", _build, settings=("FLINT_LIMITS", "FLINT_REDIS_URL"), close=_close
)


def get_limiter() -> Limiter:
    """The limiter for the running event loop (shared through Redis when configured)."""
    return limiters.get()
