"""Who is connected in this process: per playground, for messages about the playground
that are not a generation's (the model choice, a model download).

In memory, per process: with several server processes (REDIS_URL) a socket on another
process hears a model change at its next write (its owner check re-reads the row,
persistence/choice.py) or its next connect, not at once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], Awaitable[None]]

# Per event loop (a socket belongs to the loop that runs it; one per server process).
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, set[Listener]]] = (
    weakref.WeakKeyDictionary()
)


def _rooms() -> dict[str, set[Listener]]:
    return _by_loop.setdefault(asyncio.get_running_loop(), {})


def join(playground: str, listener: Listener) -> None:
    _rooms().setdefault(playground, set()).add(listener)


def leave(playground: str, listener: Listener) -> None:
    rooms = _rooms()
    room = rooms.get(playground)
    if room is None:
        return
    room.discard(listener)
    if not room:
        del rooms[playground]


async def publish(playground: str, message: dict[str, Any]) -> None:
    """Send ``message`` to every socket of ``playground`` in this process."""
    await _send(list(_rooms().get(playground, ())), message)


async def publish_all(message: dict[str, Any]) -> None:
    """Send ``message`` to every socket of every playground in this process."""
    await _send([listener for room in list(_rooms().values()) for listener in room], message)


async def _send(listeners: list[Listener], message: dict[str, Any]) -> None:
    results = await asyncio.gather(
        *(listener(message) for listener in listeners), return_exceptions=True
    )
    for result in results:
        if isinstance(result, Exception):  # a socket closing as we send: not the others' problem
            log.debug("room listener failed: %r", result)
