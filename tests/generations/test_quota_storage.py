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
