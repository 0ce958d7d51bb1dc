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
