"""The per-socket flood bucket."""

from __future__ import annotations

import time

import pytest

from playground.socket.throttle import TokenBucket


def test_a_full_bucket_admits_its_capacity_then_says_how_long_to_wait() -> None:
    bucket = TokenBucket(3, window=30.0)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take()
    assert wait == pytest.approx(10.0, rel=0.05)  # one token per 10 s
    assert not bucket.abusive


def test_it_refills_with_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    bucket = TokenBucket(2, window=2.0)
    bucket.take(), bucket.take()
    assert bucket.take() > 0
    now[0] += 1.0
    assert bucket.take() == 0.0


def test_sending_a_whole_bucket_more_while_refused_is_abusive() -> None:
    bucket = TokenBucket(2, window=60.0)
    for _ in range(2 + 3):
        bucket.take()
    assert bucket.abusive
