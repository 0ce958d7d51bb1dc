"""The hub for one process: event logs, playground claims and control in memory.

The default (``REDIS_URL`` unset): the log lives in this process, which is the
only one that could serve a reconnect. See hub/base.py for the contract.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from playground.hub.base import Control, GenerationUnknownError


@dataclass
class _Log:
    events: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    done_at: float | None = None
    watchers: int = 0
    last_watched: float = field(default_factory=time.monotonic)


class MemoryHub:
    """Event logs, playground claims and control for one process."""

    def __init__(self, ttl: float = 600) -> None:
        self.ttl = ttl
        # How long this process keeps a finished log in its own memory: the whole TTL
        # here (no other copy), less where another copy lives (RedisHub).
        self.local_ttl = ttl
        self._logs: dict[str, _Log] = {}
        self._claims: dict[str, str] = {}  # playground id -> running generation id
        self._homes: dict[str, str] = {}  # generation id -> its playground id
        self._controls: dict[str, Control] = {}
        # Finished logs in the order they finished: expiring is popping from the left,
        # so a turn's cost does not grow with the generations of the last TTL seconds.
        self._finished: collections.deque[tuple[float, str]] = collections.deque()

    # --- owning side ---------------------------------------------------------------

    async def claim(self, playground: str, gen: str) -> str | None:
        """Mark ``gen`` as the playground's running generation; return a rival's id."""
        rival = self._claims.get(playground)
        if rival is not None and rival in self._logs and self._logs[rival].done_at is None:
            return rival
        self._claims[playground] = gen
        self._homes[gen] = playground
        return None

    async def refresh_claim(self, playground: str, gen: str) -> None:
        return None  # claims in memory do not lapse

    async def release(self, playground: str, gen: str) -> None:
        if self._claims.get(playground) == gen:
            del self._claims[playground]

    async def running(self, playground: str) -> str | None:
        gen = self._claims.get(playground)
        log = self._logs.get(gen) if gen else None
        return gen if log is not None and log.done_at is None else None

    async def playground_of(self, gen: str) -> str | None:
        """The playground ``gen`` claimed; None if this hub does not know it (any more)."""
        return self._homes.get(gen)

    async def open(self, gen: str, control: Control) -> None:
        self._expire()
        self._logs[gen] = _Log()
        self._controls[gen] = control

    async def publish(self, gen: str, event: dict[str, Any]) -> None:
        log = self._logs[gen]
        log.events.append(event)
        if event["type"] == "gen.done":
            log.done_at = time.monotonic()
            self._finished.append((log.done_at, gen))
            self._controls.pop(gen, None)
        log.changed.set()
        log.changed = asyncio.Event()

    async def watched_since(self, gen: str) -> float | None:
        """When someone last watched ``gen`` (now, if someone does); None if unknown."""
        log = self._logs.get(gen)
        if log is None:
            return None
        return time.monotonic() if log.watchers else log.last_watched

    # --- watching side -------------------------------------------------------------

    async def follow(self, gen: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """Events of ``gen`` with seq > ``after``, then live ones, until gen.done."""
        log = self._logs.get(gen)
        if log is None:
            raise GenerationUnknownError(gen)
        log.watchers += 1
        try:
            index = _first_after(log.events, after)
            while True:
                while index < len(log.events):
                    event = log.events[index]
                    index += 1
                    yield event
                    if event["type"] == "gen.done":
                        return
                await log.changed.wait()
        finally:
            log.watchers -= 1
            log.last_watched = time.monotonic()

    async def control(self, gen: str, action: str, payload: dict[str, Any]) -> bool:
        handler = self._controls.get(gen)
        if handler is None:
            return False
        await handler(action, payload)
        return True

    def _expire(self) -> None:
        deadline = time.monotonic() - self.local_ttl
        finished = self._finished
        while finished and finished[0][0] < deadline:
            _done_at, gen = finished.popleft()
            log = self._logs.get(gen)
            if log is not None and log.done_at is not None and log.done_at < deadline:
                del self._logs[gen]
                self._homes.pop(gen, None)

    async def aclose(self) -> None:
        return None


def _first_after(events: list[dict[str, Any]], after: int) -> int:
    # seq is 1, 2, 3… in publish order, so seq n sits at index n - 1.
    return min(max(after, 0), len(events))
