"""Benchmark the rate limiter's cost per turn against how many browsers it remembers.

A turn does what ``start_generation`` and the socket do with the limiter: ``admit``
(one generation), ``charge`` (its tokens), ``allowance`` (what is left, sent after
gen.done), for one browser and one IP. Before each measurement the limiter is made
to remember N other browsers (each admitted and charged once, as a busy server would).

Storages, side by side in one run:

* ``limits MemoryStorage``: the library's in-memory storage as Flint used it before.
  After every hit it starts a task that walks every key it holds (with a thread hop
  per key), so the cost of a turn grows with N. That walk runs in the background, so
  a turn is charged with it: the clock runs until the walk has finished.
* ``SweepingMemoryStorage``: Flint's (playground/generations/quotas.py).
* ``Redis`` (``--redis``, default ``redis://127.0.0.1:6379/12``; that database is
  flushed before and after).

Reported: wall time per turn (ms, mean and p95 over the turns), and this process's CPU
time per turn (threads included).

Run:  python bench/quotas_bench.py [--browsers 10 1000 10000] [--turns 50] [--redis URL|none]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flint.settings")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from limits.aio.storage import MemoryStorage, RedisStorage  # noqa: E402

from playground.generations.quotas import Limiter, SweepingMemoryStorage  # noqa: E402

LIMITS = {
    "generations_user": "60 per 10 minutes",
    "generations_ip": "300000 per 10 minutes",
    "tokens_user": "500000 per hour",
    "tokens_ip": "2000000000 per hour",
}


async def _settle(limiter: Limiter) -> None:
    """Wait for the library storage's background expiry walk, if one runs."""
    storage = limiter.gens.storage
    timer = getattr(storage, "timer", None)
    while timer is not None and not timer.done():
        await asyncio.sleep(0)
        timer = getattr(storage, "timer", None)


async def _turn(limiter: Limiter, user: str, ip: str) -> None:
    refusal = await limiter.admit(user, ip)
    assert refusal is None, refusal
    await limiter.charge(user, ip, 200)
    await limiter.allowance(user, ip)
    await _settle(limiter)


async def measure(make: Any, browsers: int, turns: int) -> dict[str, float]:
    limiter = make()
    try:
        for i in range(browsers):  # remembered browsers, one shared IP range
            user, ip = f"remembered-{i:06d}", f"10.0.{i // 250}.{i % 250}"
            await limiter.admit(user, ip)
            await limiter.charge(user, ip, 100)
        await _settle(limiter)
        walls = []
        cpu0 = time.process_time()
        for t in range(turns):
            t0 = time.perf_counter()
            await _turn(limiter, f"measured-{t % 10}", "192.0.2.1")
            walls.append(1000 * (time.perf_counter() - t0))
        cpu = 1000 * (time.process_time() - cpu0) / turns
    finally:
        await limiter.aclose()
    walls.sort()
    return {
        "mean": statistics.mean(walls),
        "p95": walls[min(len(walls) - 1, int(0.95 * len(walls)))],
        "cpu": cpu,
    }


def storages(redis_url: str | None) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [
        ("limits MemoryStorage (before)", lambda: Limiter(MemoryStorage(), LIMITS)),
        ("SweepingMemoryStorage (now)", lambda: Limiter(SweepingMemoryStorage(), LIMITS)),
    ]
    if redis_url:

        def make_redis() -> Limiter:
            pool = aioredis.ConnectionPool.from_url(redis_url)
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix="flint-limits-bench",
                connection_pool=pool,
            )
            return Limiter(storage, LIMITS, pool)

        out.append(("Redis (as configured with REDIS_URL)", make_redis))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--browsers", type=int, nargs="+", default=[10, 1000, 10000])
    p.add_argument("--turns", type=int, default=50)
    p.add_argument(
        "--slow-turns", type=int, default=5, help="turns for the library storage at N >= 1000"
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="URL, or 'none'")
    args = p.parse_args()
    redis_url = None if args.redis == "none" else args.redis
    if redis_url:
        try:
            redis.Redis.from_url(redis_url).flushdb()
        except redis.RedisError as exc:
            print(f"(no Redis at {redis_url}: {exc}; skipping it)")
            redis_url = None
    print(f"# Rate limiter cost per turn; load {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    print(f"{'storage':40} {'browsers':>9} {'turns':>6} {'ms/turn':>9} {'p95 ms':>8} {'CPU ms':>8}")
    try:
        for name, make in storages(redis_url):
            for n in args.browsers:
                slow = "before" in name and n >= 1000
                turns = args.slow_turns if slow else args.turns
                if redis_url:
                    redis.Redis.from_url(redis_url).flushdb()
                r = asyncio.run(measure(make, n, turns))
                print(
                    f"{name:40} {n:>9,} {turns:>6} {r['mean']:>9.3f} {r['p95']:>8.3f}"
                    f" {r['cpu']:>8.3f}",
                    flush=True,
                )
    finally:
        if redis_url:
            redis.Redis.from_url(redis_url).flushdb()


if __name__ == "__main__":
    main()
