"""Coalesce a generation's deltas and events into socket frames.

A WebSocket frame through a Channels consumer costs ~31 µs of CPU, so one frame
per token caps a process at ~32k tokens/s in total. The relay batches text so
a generation sends at most one delta frame per ``interval`` (default 16 ms, one
animation frame) or per ``max_tokens`` tokens, whichever comes first, and no frame
carries more than ``max_tokens`` tokens (a larger delta is split). The first
delta of an idle relay goes out at once, so batching adds nothing to the
time-to-first-token. Waiting costs one timer per frame window, whatever the number
of deltas pushed meanwhile (issue #15: it used to be a task per delta).

The relay is the only writer of a generation's frames, so sequence numbers are
assigned in send order with no locking.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

from playground import protocol
from playground.errors import FlintError

Send = Callable[[dict[str, Any]], Awaitable[None]]
TIMER_GRID = 0.004  # s; window timers fire on multiples of it (loop time)


class FrameRelay:
    def __init__(self, send: Send, gen: str, *, interval: float, max_tokens: int) -> None:
        self._send = send
        self.gen = gen
        self.seq = 0
        self._interval = interval
        self._max_tokens = max(1, max_tokens)
        # Pending output in order: text runs (merged, at most max_tokens each) and events.
        self._items: list[_TextRun | _Event] = []
        self._urgent = False  # an event, or a full run, is pending: send without waiting
        self._closed = False
        self._sending = False  # the sender is inside flush (it may be suspended in a send)
        self._relieved = False  # the sender's task handed its sending to the closer
        self._last_flush = -1e9  # loop time of the last text frame
        # One timer per frame window (not a task per delta): set by the first text of a
        # window that must wait, it wakes the sender when the window ends.
        self._timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.frames = 0

    # --- producer side (synchronous: never blocks the upstream reader) -------------

    def push_text(self, text: str, tokens: int) -> None:
        cap = self._max_tokens
        items = self._items
        last = items[-1] if items else None
        if not isinstance(last, _TextRun) or last.tokens >= cap:
            last = _TextRun()
            items.append(last)
        # FLINT_FRAME_MAX_TOKENS holds: a delta that would overfill the run is split, its
        # tokens counted in proportion to its characters (a read can carry hundreds).
        while last.tokens + tokens > cap and len(text) > 1 and tokens > 1:
            room = cap - last.tokens
            cut = min(len(text) - 1, max(1, round(len(text) * room / tokens)))
            last.parts.append(text[:cut])
            last.tokens += room
            text, tokens = text[cut:], tokens - room
            last = _TextRun()
            items.append(last)
        last.parts.append(text)
        last.tokens += tokens
        if len(items) > 1 or last.tokens >= cap:
            self._urgent = True
        self._poke()

    def push_event(self, event_type: str, /, **fields: Any) -> None:
        self._items.append(_Event(event_type, fields))
        self._urgent = True
        self._poke()

    def restart_window(self) -> None:
        """Send the next text at once, as for a first token (after a steer)."""
        self._last_flush = -1e9
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._poke()

    def close(self) -> None:
        self._closed = True
        self._wake()

    def take_over(self) -> bool:
        """Close the relay and, unless its sender is in the middle of a send, relieve the
        sender's task: the caller then sends what is left itself (``flush``) and what
        follows (``emit``), in its own task. True if taken over; False: the sender is
        busy, so ``close`` and wait for its task to end, as before.

        At the end of a generation this saves two task switches before gen.done (the
        sender waking to flush, then the generation waking when it has ended).
        """
        if self._sending:
            self.close()
            return False
        self._closed = self._relieved = True
        self._wake()  # a parked sender wakes only to return; one not started returns at once
        return True

    def _poke(self) -> None:
        """New output: wake the sender now if it may send, else make sure a timer will."""
        if self._waiter is None or not self._items:
            return  # the sender is busy sending (it looks again before it waits), or idle
        if self._urgent:
            self._wake()
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            due = self._last_flush + self._interval
            if loop.time() >= due:
                self._wake()
            else:
                # On the timer grid the upstream reader paces its reads on
                # (inference/sse_http.py): one wake-up of the process serves both, and
                # every stream of the process.
                self._timer = loop.call_at(math.ceil(due / TIMER_GRID) * TIMER_GRID, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    # --- consumer side ---------------------------------------------------------------

    async def run(self) -> None:
        """Send frames until closed, then flush what is left."""
        loop = asyncio.get_running_loop()
        try:
            while not self._relieved:
                if self._items and (
                    self._closed or self._urgent or loop.time() >= self._last_flush + self._interval
                ):
                    await self.flush()
                    continue
                if self._closed:
                    return
                waiter = self._waiter = loop.create_future()
                self._poke()  # pending text whose window has not ended: arm its timer
                try:
                    await waiter
                finally:
                    self._waiter = None
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    async def flush(self) -> None:
        items, self._items = self._items, []
        self._urgent = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        sent_text = False
        self._sending = True
        try:
            for item in items:
                if isinstance(item, _TextRun):
                    await self.emit("gen.delta", text="".join(item.parts), tokens=item.tokens)
                    sent_text = True
                else:
                    await self.emit(item.type, **item.fields)
        finally:
            self._sending = False
        if sent_text:  # the window paces text; events alone do not open a new one
            self._last_flush = asyncio.get_running_loop().time()

    async def emit_error(self, exc: FlintError) -> None:
        """Send the canonical error message, tied to this generation."""
        self.seq += 1
        self.frames += 1
        await self._send(protocol.error_from(exc, gen=self.gen, seq=self.seq))

    async def emit(self, event_type: str, /, **fields: Any) -> None:
        """Send one event now, with the next sequence number."""
        self.seq += 1
        self.frames += 1
        await self._send(protocol.event(event_type, self.gen, self.seq, **fields))


class _Event:
    __slots__ = ("fields", "type")

    def __init__(self, event_type: str, fields: dict[str, Any]) -> None:
        self.type = event_type
        self.fields = fields


class _TextRun:
    __slots__ = ("parts", "tokens")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.tokens = 0
