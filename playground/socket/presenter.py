"""The presenting side of an owner's playground socket: ``live.push`` and the count.

The owner's page sends its editors' changes as ``live.push``; the store orders
them (playground/live/) and hands them to every viewer's socket
(playground/socket/live.py). The presenter's own socket hears the viewer count
and the end of the presentation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from playground import persistence, protocol
from playground.errors import FlintError
from playground.hub import GenerationUnknownError, get_hub
from playground.live import NotPresentingError, Watcher, get_live, reopen
from playground.live.state import Change, LiveInvalidError, Push
from playground.persistence.files import FilesError

SendText = Callable[[str], Awaitable[None]]


class Presenter:
    """The presenting side of one owner's socket."""

    def __init__(self, playground: str, send_text: SendText) -> None:
        self.playground = playground
        self._send_text = send_text
        self.presentation: str | None = None
        self._watcher: Watcher | None = None
        self._announcing: set[asyncio.Task[None]] = set()

    async def push(self, message: protocol.LivePush) -> dict[str, Any]:
        """Order ``message`` in the running presentation; → ``live.pushed`` or an error."""
        store = get_live()
        cached = self.presentation is not None
        if self.presentation is None:
            self.presentation = await store.current(self.playground)
        if self.presentation is None:
            running = await persistence.presentation_running_async(self.playground)
            if running is None:
                return protocol.error_from(NotPresentingError())
            # Started, not ended, and not in the store: a restart emptied it. It goes on
            # from the saved files until this push (the page's whole set) replaces them.
            await reopen(running)
            self.presentation = running.id
        push = Push(
            base=message.base,
            changes=[Change(c.path, c.start, c.end, c.insert) for c in message.changes],
            files=message.files,
            active=message.active,
        )
        try:
            update = await store.push(self.presentation, push)
        except NotPresentingError as exc:
            await self.stop()
            # The one this socket presented ended, and the playground is presented
            # again (not: the end is being written, its row still says it runs).
            if cached and await store.current(self.playground) is not None:
                return await self.push(message)
            return protocol.error_from(exc)
        except FilesError as exc:  # the save rules: a live copy cannot break them either
            return protocol.error_from(LiveInvalidError(f"Viewers cannot be shown this: {exc}"))
        except FlintError as exc:  # live.behind, live.invalid
            return protocol.error_from(exc)
        if self._watcher is None:  # the count of viewers and the end reach the presenter too
            self._watcher = Watcher(self._send_text, viewer=False, held=None)
            state = await store.watch(self.presentation, self._watcher)
            # An answer already under way when presenting began: the viewers get it too.
            running = await get_hub().running(self.playground)
            if running is not None and state is not None and state.gen != running:
                await store.announce_gen(self.presentation, running, "")
        return protocol.live_pushed(update["version"])

    async def started(self, gen: str, instruction: str) -> None:
        """The presenter started a generation: its viewers follow it, from its first token.

        Announced once the answer's first frame is out (or it ended first), not at
        once: handing it to a crowd of viewers costs the loop a send each, and the
        presenter's own first token goes before that.
        """
        if self.presentation is not None:
            task = asyncio.create_task(self._announce(self.presentation, gen, instruction))
            self._announcing.add(task)
            task.add_done_callback(self._announcing.discard)

    async def _announce(self, presentation: str, gen: str, instruction: str) -> None:
        with contextlib.suppress(GenerationUnknownError):
            async for event in get_hub().follow(gen, 0):
                if event["type"] in ("gen.delta", "gen.done"):
                    break
        await get_live().announce_gen(presentation, gen, instruction)

    async def stop(self) -> None:
        if self._watcher is not None and self.presentation is not None:
            with contextlib.suppress(Exception):
                await get_live().unwatch(self.presentation, self._watcher)
        self._watcher = None
        self.presentation = None
