"""Coalesce a generation's deltas and events into socket frames.

A WebSocket frame through a Channels consumer costs ~31 µs of CPU, so one frame
per token caps a process at ~32k tokens/s in total. The relay batches text so
a generation sends at most one delta frame per ``interval`` (default 16 ms, one
animation frame) or per ``max_tokens`` tokens, whichever comes first. The first
delta of an idle relay goes out at once, so batching adds nothing to the
time-to-first-token.

The relay is the only writer of a generation's frames, so sequence numbers are
assigned in send order with no locking.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from playground import protocol
from playground.errors import FlintError

Send = Callable[[dict[str, Any]], Awaitable[None]]


class FrameRelay:
    def __init__(self, send: Send, gen: str, *, interval: float, max_tokens: int) -> None:
        self._send = send
        self.gen = gen
        self.seq = 0
        self._interval = interval
        self._max_tokens = max_tokens
        # Pending output in order: text runs (merged) and events between them.
        self._items: list[_TextRun | _Event] = []
        self._tokens = 0
        self._wake = asyncio.Event()
        self._closed = False
        self._last_flush = 0.0
        self.frames = 0

    # --- producer side (synchronous: never blocks the upstream reader) -------------

    def push_text(self, text: str, tokens: int) -> None:
        last = self._items[-1] if self._items else None
        if not isinstance(last, _TextRun):
            last = _TextRun()
            self._items.append(last)
        last.parts.append(text)
        last.tokens += tokens
        self._tokens += tokens
        self._wake.set()

    def push_event(self, event_type: str, /, **fields: Any) -> None:
        self._items.append(_Event(event_type, fields))
        self._wake.set()

    def restart_window(self) -> None:
        """Send the next text at once, as for a first token (after a steer)."""
        self._last_flush = 0.0

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    # --- consumer side ---------------------------------------------------------------

    async def run(self) -> None:
        """Send frames until closed, then flush what is left."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._closed and not self._urgent():
                delay = self._last_flush + self._interval - time.monotonic()
                if delay > 0:
                    await self._sleep_unless_full(delay)
            await self.flush()
            if self._closed and not self._items:
                return

    def _urgent(self) -> bool:
        # Edits and other events should not wait for the text window.
        return self._tokens >= self._max_tokens or any(
            not isinstance(i, _TextRun) for i in self._items
        )

    async def _sleep_unless_full(self, delay: float) -> None:
        deadline = time.monotonic() + delay
        while not self._closed and not self._urgent():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return

    async def flush(self) -> None:
        items, self._items = self._items, []
        self._tokens = 0
        sent_text = False
        for item in items:
            if isinstance(item, _TextRun):
                await self.emit("gen.delta", text="".join(item.parts), tokens=item.tokens)
                sent_text = True
            else:
                await self.emit(item.type, **item.fields)
        if sent_text:  # the window paces text; events alone do not open a new one
            self._last_flush = time.monotonic()

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
