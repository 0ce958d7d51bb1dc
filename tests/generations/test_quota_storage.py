"""The in-memory quota storage: the library's limits, a cost per turn that stays flat."""

from __future__ import annotations

import time

import pytest

from playground.generations.quotas import Limiter, SweepingMemoryStorage

LIMITS = {
    "generations_user": "3 per minute",
    "generations_ip": "100 per minute",
    "tokens_user": "1000 per hour",
    "tokens_ip": "100000 per hour",
}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(time, "time", c)
    return c


async def test_the_limits_hold_as_with_the_library_storage() -> None:
    limiter = Limiter(SweepingMemoryStorage(), LIMITS)
    for _ in range(3):
        assert await limiter.admit("u", "1.2.3.4") is None
    refusal = await limiter.admit("u", "1.2.3.4")
    assert refusal is not None and refusal.what == "generations" and refusal.who == "user"
    assert (await limiter.allowance("u", "1.2.3.4"))["generations"] == 0
    await limiter.charge("v", "1.2.3.4", 1000)
    refusal = await limiter.admit("v", "1.2.3.4")
    assert refusal is not None and refusal.what == "tokens"


async def test_the_window_moves_on(clock: Clock) -> None:
    limiter = Limiter(SweepingMemoryStorage(), LIMITS)
    for _ in range(3):
        assert await limiter.admit("u", None) is None
    assert await limiter.admit("u", None) is not None
    clock.now += 61
    assert await limiter.admit("u", None) is None


async def test_no_walk_over_every_key_is_started_and_expired_keys_are_dropped(
    clock: Clock,
) -> None:
    storage = SweepingMemoryStorage()
    limiter = Limiter(storage, LIMITS)
    for i in range(1000):
        await limiter.admit(f"user-{i}", None)
        await limiter.charge(f"user-{i}", None, 10)
    assert storage.timer is None, "the library's expiry walk was started"
    remembered = len(storage.events) + len(storage.storage)
    assert remembered >= 2000
    clock.now += 3 * 3600  # every window is long over
    for i in range(remembered):  # each turn drops a couple of expired browsers
        await limiter.charge(f"busy-{i % 20}", None, 1)
    assert len(storage.events) + len(storage.storage) <= 40  # the busy browsers' own
    assert storage.timer is None


async def test_in_memory_the_limiter_counts_as_the_library_does(clock: Clock) -> None:
    # In memory the Limiter counts in the storage directly (no library call); the same
    # turns through the library's own MemoryStorage (every call through the library)
    # must be admitted, refused and shown alike, across window boundaries.
    from limits.aio.storage import MemoryStorage

    limits_ = {
        **LIMITS,
        "generations_user": "6 per minute",
        "generations_ip": "9 per minute",
        "tokens_user": "5 per minute",
    }
    fast, library = Limiter(SweepingMemoryStorage(), limits_), Limiter(MemoryStorage(), limits_)
    assert fast._memory is not None and library._memory is None
    browsers = [("u", "1.2.3.4"), ("v", "1.2.3.4"), ("w", None), (None, "5.6.7.8")]
    refused: set[tuple[str, str] | None] = set()
    for turn in range(240):
        user, ip = browsers[turn % len(browsers)]
        got = []
        for limiter in (fast, library):
            refusal = await limiter.admit(user, ip)
            if refusal is None:
                await limiter.charge(user, ip, 1 + turn % 3)
            got.append((refusal, await limiter.allowance(user, ip)))
        assert got[0] == got[1], f"turn {turn}"
        refused.add(None if got[0][0] is None else (got[0][0].what, got[0][0].who))
        clock.now += 1.7  # crosses window boundaries of minutes and hours
    assert refused >= {None, ("tokens", "user"), ("generations", "ip")}  # each case met
    assert fast._key(fast.items[("tokens", "user")], "user", "u") == fast.items[
        ("tokens", "user")
    ].key_for("user", "u")
