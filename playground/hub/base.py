"""What every hub offers: the contract the generations and the socket rely on.

A generation does not write to a socket; it publishes to the hub. Every socket
watching it (the one that started it, a reloaded page, a second tab, a socket
on another server process) reads the log from the sequence number it last saw
and then follows it live. That is what lets a generation survive a refresh or a
dropped connection with no gaps and no duplicates. Implementations:
``memory.MemoryHub`` (one process) and ``redis.RedisHub`` (several processes),
chosen by ``settings.FLINT_HUB["BACKEND"]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from playground.errors import FlintError, NotFoundError

Control = Callable[[str, dict[str, Any]], Awaitable[None]]


class GenerationUnknownError(NotFoundError):
    """No event log for that generation here (never existed, or expired)."""

    code = "gen.unknown"

    def __init__(self, gen: str) -> None:
        super().__init__("That generation is not available any more; its events have expired.")
        self.gen = gen


class HubUnavailableError(FlintError):
    """A follower lost the generation's log: Redis unreachable for too long, or back
    without some of its events (restarted with no persistence)."""

    code = "gen.follow_lost"
    retryable_default = True

    def __init__(self, gen: str) -> None:
        super().__init__(
            "The connection to this answer's event store broke, so the rest of it cannot "
            "be shown here; what was saved is kept. Reload the page to see where it stands."
        )
        self.gen = gen


# Every hub records which playground a generation belongs to when the
# generation claims it (``claim``), and answers ``playground_of`` for as long as
# it keeps the generation's log. The socket asks it before it lets anyone stop,
# steer, follow or reference a generation: only through a socket of the
# generation's own playground (docs/protocol.md, "Who may do what").


class Hub(Protocol):
    async def claim(self, playground: str, gen: str) -> str | None: ...
    async def refresh_claim(self, playground: str, gen: str) -> None: ...
    async def release(self, playground: str, gen: str) -> None: ...
    async def running(self, playground: str) -> str | None: ...
    async def playground_of(self, gen: str) -> str | None: ...
    async def open(self, gen: str, control: Control) -> None: ...
    async def publish(self, gen: str, event: dict[str, Any]) -> None: ...
    async def watched_since(self, gen: str) -> float | None: ...
    def follow(self, gen: str, after: int = 0) -> AsyncIterator[dict[str, Any]]: ...
    async def control(self, gen: str, action: str, payload: dict[str, Any]) -> bool: ...
    async def aclose(self) -> None: ...
