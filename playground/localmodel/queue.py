"""A FIFO of generations for the single local model, with positions to show users.

An asyncio.Lock would serialise too, but it cannot say how many are ahead of you.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

OnWait = Callable[[str, int | None], None]


class GenerationQueue:
    def __init__(self) -> None:
        # Head of the line holds the model. Each entry is woken whenever the line moves,
        # so waiters can report their new position.
        self._line: list[asyncio.Event] = []

    def __len__(self) -> int:
        return len(self._line)

    @asynccontextmanager
    async def turn(self, on_wait: OnWait | None = None) -> AsyncIterator[None]:
        me = asyncio.Event()
        self._line.append(me)
        try:
            while (position := self._line.index(me)) > 0:
                if on_wait is not None:
                    on_wait("queued", position)
                me.clear()
                await me.wait()  # cancellation lands here and leaves the line below
            yield
        finally:
            self._line.remove(me)
            for waiter in self._line:
                waiter.set()
