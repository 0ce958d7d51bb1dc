"""The in-memory hub: finished logs expire after their TTL, at a cost per turn that stays flat."""

from __future__ import annotations

import time

import pytest

from playground.hub.memory import MemoryHub


async def _run(hub: MemoryHub, gen: str) -> None:
    async def control(action: str, payload: dict) -> None:
        return None

    await hub.open(gen, control)
    await hub.publish(gen, {"type": "gen.started", "gen": gen, "seq": 1})
    await hub.publish(gen, {"type": "gen.done", "gen": gen, "seq": 2})


async def test_finished_logs_expire_after_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    hub = MemoryHub(ttl=10)
    for i in range(100):
        await _run(hub, f"g_{i}")
    assert len(hub._logs) == 100
    now[0] += 5
    await _run(hub, "g_new")
    assert len(hub._logs) == 101  # within the TTL: all replayable
    now[0] += 6
    await _run(hub, "g_newer")
    assert set(hub._logs) == {"g_new", "g_newer"}
    assert len(hub._finished) == 2


async def test_a_running_generation_never_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    hub = MemoryHub(ttl=1)

    async def control(action: str, payload: dict) -> None:
        return None

    await hub.open("g_running", control)
    now[0] += 100
    await _run(hub, "g_other")
    assert "g_running" in hub._logs


async def test_with_redis_a_finished_log_leaves_this_process_early_and_is_followed_from_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redis keeps it for the TTL; the process's own copy only for LOCAL_TTL (a soak
    # grew every process by the answers of the last ten minutes otherwise).
    import secrets

    from playground.hub.redis import LOCAL_TTL, RedisHub

    now = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    hub = RedisHub("redis://127.0.0.1:6379/8", ttl=600)
    gen, later = f"g_{secrets.token_hex(6)}", f"g_{secrets.token_hex(6)}"
    try:
        await hub.claim("p_expiry", gen)
        await _run(hub, gen)
        now[0] += LOCAL_TTL + 1
        await _run(hub, later)  # a later turn is what expires the old ones
        assert gen not in hub._logs and later in hub._logs
        events = [e async for e in hub.follow(gen, 0)]
        assert [e["seq"] for e in events] == [1, 2] and events[-1]["type"] == "gen.done"
        assert await hub.playground_of(gen) == "p_expiry"
    finally:
        keys = [f"flint:gen:{g}{part}" for g in (gen, later) for part in ("", ":pg", ":watch")]
        await hub.redis.delete(*keys, "flint:pg:p_expiry:gen")
        await hub.aclose()
