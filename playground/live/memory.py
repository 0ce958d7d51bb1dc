"""Presentations for one process: state, order and fan-out in memory.

The default (``REDIS_URL`` unset). ``redis.RedisLiveStore`` keeps the state in
Redis for several processes and reuses the local fan-out defined here.

Fan-out: each event is encoded once (``protocol.live_event``) and handed, in
order, to every watcher of the presentation in this process by one task per
presentation, so the presenter's push returns as soon as the change is ordered,
however many people watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from playground import protocol
from playground.live.state import LiveState, Push, apply_push
from playground.persistence.files import validate_files

log = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]


class NotPresentingError(protocol.ProtocolError):
    def __init__(self) -> None:
        super().__init__(
            "live.not_presenting",
            "This playground is not being presented; start presenting first.",
        )


def gen_event(state: LiveState) -> dict[str, Any]:
    return {
        "kind": "gen",
        "version": state.version,
        "gen": state.gen,
        "instruction": state.instruction,
    }


@dataclass(eq=False)
class Watcher:
    """One socket watching a presentation: what it is sent, and from which version.

    Events wait in ``held`` until the socket has sent the state they follow
    (``release``): an event fanned out while that state is on its way would
    otherwise overtake it.
    """

    send: Send
    viewer: bool = True  # False: the presenter's own socket (counts and the end only)
    seen: int = 0  # versions up to this one are in the snapshot it started from
    id: str = ""
    held: list[tuple[str, str | None]] | None = field(default_factory=list)
    # The generation this socket follows by itself (it joined mid-answer, or asked
    # for the rest with gen.resume): the room's relay leaves it out.
    own: str | None = None

    async def deliver(self, text: str, gen: str | None = None) -> None:
        """``text`` now, or once released; ``gen``: the generation it is an event of."""
        if self.held is not None:
            self.held.append((text, gen))
        else:
            await self.send(text)

    async def release(self) -> None:
        """Send what waited, in order, then everything as it comes.

        The relay's events of ``own`` that waited are dropped: the socket replays that
        generation from its start itself, and one of them sent first would go before
        (and make the page skip) the start of the answer.
        """
        while self.held:
            text, gen = self.held.pop(0)
            if gen is None or gen != self.own:
                await self.send(text)
        self.held = None  # no await since the last check: nothing can slip in between


@dataclass
class Room:
    watchers: set[Watcher] = field(default_factory=set)
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    relay: asyncio.Task[None] | None = None  # the presenter's generation, to the viewers


# Sends between two yields of a fan-out: the presenter's own socket (and everything
# else on the loop) gets a turn at least every SLICE viewer sends.
SLICE = 32


async def _send_all(watchers: list[Watcher], text: str, gen: str | None = None) -> None:
    """``text`` to each watcher in turn (no task per send), yielding every SLICE sends."""
    for i, watcher in enumerate(watchers):
        try:
            await watcher.deliver(text, gen)
        except Exception as exc:  # a socket closing as we send: not the others' problem
            log.debug("live watcher failed: %r", exc)
        if i % SLICE == SLICE - 1:
            await asyncio.sleep(0)


class MemoryLiveStore:
    def __init__(self) -> None:
        self._states: dict[str, LiveState] = {}
        self._current: dict[str, str] = {}  # playground -> presentation
        self._rooms: dict[str, Room] = {}
        self._viewers: dict[str, set[str]] = {}
        self._ids = itertools.count(1)

    # --- the presenter's side ----------------------------------------------------

    async def begin(self, presentation: str, playground: str, state: LiveState) -> None:
        """Open (or reopen) ``presentation`` of ``playground`` at ``state``."""
        self._states.setdefault(presentation, state)
        self._current[playground] = presentation

    async def current(self, playground: str) -> str | None:
        return self._current.get(playground)

    async def snapshot(self, presentation: str) -> LiveState | None:
        return self._states.get(presentation)

    async def push(self, presentation: str, push: Push) -> dict[str, Any]:
        state = self._states.get(presentation)
        if state is None or state.ended:
            raise NotPresentingError
        new, update = apply_push(state, push)
        validate_files(new.files)
        self._states[presentation] = new
        await self.publish(presentation, {"kind": "update", **update})
        return update

    async def announce_gen(self, presentation: str, gen: str, instruction: str) -> None:
        state = self._states.get(presentation)
        if state is None or state.ended:
            return
        state.version += 1
        state.gen, state.instruction = gen, instruction
        await self.publish(presentation, gen_event(state))

    async def end(self, playground: str, presentation: str) -> LiveState | None:
        if self._current.get(playground) == presentation:
            del self._current[playground]
        state = self._states.pop(presentation, None)
        if state is not None:
            state.version += 1
            state.ended = True
            await self.publish(presentation, {"kind": "ended", "version": state.version})
        return state

    # --- the watchers' side --------------------------------------------------------

    async def watch(self, presentation: str, watcher: Watcher) -> LiveState | None:
        """Add ``watcher``; → the state it starts from (None: no such live presentation).

        The watcher is added before the state is read: every event after that state
        reaches it, and those it already has (version <= ``seen``) are dropped.
        """
        self._rooms.setdefault(presentation, Room()).watchers.add(watcher)
        state = await self.snapshot(presentation)
        if state is None:
            await self.unwatch(presentation, watcher)
            return None
        watcher.seen = state.version
        if watcher.viewer:
            watcher.id = f"{next(self._ids)}"
            await self.publish(
                presentation,
                {"kind": "viewers", "count": await self._join(presentation, watcher.id)},
            )
        return state

    async def unwatch(self, presentation: str, watcher: Watcher) -> None:
        room = self._rooms.get(presentation)
        if room is None or watcher not in room.watchers:
            return
        room.watchers.discard(watcher)
        if watcher.viewer and watcher.id:
            count = await self._leave(presentation, watcher.id)
            await self.publish(presentation, {"kind": "viewers", "count": count})
        if not room.watchers:
            self._drop_room(presentation)

    async def viewers(self, presentation: str) -> int:
        return len(self._viewers.get(presentation, ()))

    async def _join(self, presentation: str, viewer: str) -> int:
        self._viewers.setdefault(presentation, set()).add(viewer)
        return len(self._viewers[presentation])

    async def _leave(self, presentation: str, viewer: str) -> int:
        viewers = self._viewers.get(presentation, set())
        viewers.discard(viewer)
        if not viewers:
            self._viewers.pop(presentation, None)
        return len(viewers)

    async def publish(self, presentation: str, event: dict[str, Any]) -> None:
        """Hand ``event`` to this process's watchers, in order (see redis.py for others)."""
        self.deliver(presentation, event)

    def deliver(self, presentation: str, event: dict[str, Any]) -> None:
        room = self._rooms.get(presentation)
        if room is None:
            return
        room.queue.put_nowait(event)
        if room.task is None or room.task.done():
            room.task = asyncio.create_task(self._fan_out(room))

    async def _fan_out(self, room: Room) -> None:
        while not room.queue.empty():
            event = room.queue.get_nowait()
            version = event.get("version")
            text = protocol.dumps(protocol.live_event(event))
            targets = [
                w
                for w in room.watchers
                if (w.viewer or event["kind"] in ("viewers", "ended"))
                and (version is None or version > w.seen)
            ]
            for watcher in targets:
                if version is not None:
                    watcher.seen = version
            await _send_all(targets, text)
            if event["kind"] == "gen":
                self._relay(room, event["gen"])

    def _relay(self, room: Room, gen: str) -> None:
        # After the previous answer's relay, never instead of it: a viewer behind by
        # a few frames still gets the end of the last answer, then the next one.
        room.relay = asyncio.create_task(self._relay_gen(room, gen, room.relay))

    async def _relay_gen(self, room: Room, gen: str, before: asyncio.Task[None] | None) -> None:
        """Follow ``gen`` once for the whole room: one reader and one encoding per event.

        A socket per viewer following it (a task, a wake-up and an encoding each, per
        frame) made 300 viewers cost the presenter's own answer 50 ms before its first
        token; this way each frame costs the viewers' sends and nothing else, in slices.
        """
        from playground.hub import GenerationUnknownError, get_hub

        if before is not None:
            with contextlib.suppress(Exception):
                await before
        try:
            async for event in get_hub().follow(gen, 0):
                text = protocol.dumps(event)
                await _send_all([w for w in room.watchers if w.viewer and w.own != gen], text, gen)
        except GenerationUnknownError:
            log.info("presentation relay: generation %s has no log here", gen)

    def _drop_room(self, presentation: str) -> None:
        room = self._rooms.pop(presentation, None)
        if room is None:
            return
        for task in (room.task, room.relay):
            if task is not None and not task.done():
                task.cancel()

    async def aclose(self) -> None:
        for presentation in list(self._rooms):
            room = self._rooms.pop(presentation)
            for task in (room.task, room.relay):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
