"""Presenting live, on the socket: the presenter's pushes and the viewers' socket.

The presenter's page sends ``live.push`` over its playground socket
(``Presenter``, which the playground consumer owns); the store orders each push
(playground/live/) and every viewer's socket, ``/ws/live/<presentation>/``
(``LiveConsumer``), gets it as ``live.update``. A viewer's socket is a playground
socket that never writes: it starts from ``live.state`` and follows whatever
generation the presenter starts (``live.gen``, then its events, relayed once per
process to every viewer: playground/live/memory.py; no gen.resume from the page),
so a viewer who joins late sees the files and the answer as they are at once.
"""

from __future__ import annotations

import contextlib
from typing import Any

from playground import persistence, protocol
from playground.hub import get_hub
from playground.live import Watcher, get_live, reopen
from playground.live.state import LiveState
from playground.socket.consumer import CLOSE_NOT_FOUND, PlaygroundConsumer


class LiveConsumer(PlaygroundConsumer):
    """A viewer's socket: the presentation's state, its changes, its generations; no writes."""

    watcher: Watcher | None = None

    async def connect(self) -> None:
        presentation_id = self.scope["url_route"]["kwargs"]["presentation_id"]
        try:
            self.presentation = await persistence.presentation_get_async(presentation_id)
        except persistence.PresentationNotFoundError:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.scope["url_route"]["kwargs"]["playground_id"] = self.presentation.playground_id
        await super().connect()
        if self.models is None:  # refused, or not started (closed already)
            return
        await self._start_watching()

    async def _start_watching(self) -> None:
        store = get_live()
        self.watcher = Watcher(self._send_text)
        state = None
        if self.presentation.ended_at is None:
            state = await store.watch(self.presentation.id, self.watcher)
            if state is None:  # running, but the store lost it (a restart): reopen it
                await reopen(self.presentation)
                state = await store.watch(self.presentation.id, self.watcher)
        if state is None:  # ended (or its live state is gone): the last state kept
            self.watcher = None
            files = self.presentation.files or dict(self.presentation.playground.files)
            ended = LiveState(files=dict(files), ended=True).to_json()
            await self.send_json(protocol.live_state(ended, 0))
            return
        # The generation to follow: the presenter's last, running or finished, while
        # its log is kept (session.ready's ``running`` is left empty: the page follows
        # it from here, instruction and all).
        start = state.to_json()
        if state.gen is not None and await get_hub().playground_of(state.gen) is None:
            start["gen"], start["instruction"] = None, None
        viewers = await store.viewers(self.presentation.id)
        if start["gen"] is not None:  # under way (or done): this socket replays it itself
            self.watcher.own = start["gen"]
        await self.send_json(protocol.live_state(start, viewers))
        await self.watcher.release()
        if start["gen"] is not None:
            await self._follow(start["gen"], 0)

    async def on_resume(self, message: protocol.GenResume) -> None:
        # The page has part of it (a reconnect): the rest comes from this socket's own
        # follower, so the room's relay leaves this socket out of that generation.
        # Not for a generation it may not follow (refused below, its follower left as
        # it was): the relay would send the one that follower follows a second time.
        if self.watcher is not None and await self._belongs_here(message.gen):
            self.watcher.own = message.gen
        await super().on_resume(message)

    async def _owner(self) -> bool:
        return False  # a live link is read-only, whoever holds it

    async def _session_ready(self, state: Any) -> dict[str, Any]:
        ready = await super()._session_ready(state)
        ready["role"] = "viewer"
        ready["playground"] = self.presentation.id  # never the playground's own id
        ready["running"] = None  # live.state names the generation to follow
        return ready

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None:
            with contextlib.suppress(Exception):
                await get_live().unwatch(self.presentation.id, self.watcher)
            self.watcher = None
        await super().disconnect(code)
