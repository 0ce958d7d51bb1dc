"""Presentations for several server processes: state and order in Redis.

The presenter may reach one process and its viewers any other. The state (the
files, the version) is one Redis key; every change is a compare-and-swap on the
version (a Lua script) that also appends the change to the presentation's Redis
Stream, so the stream's order is the version order. Each process that has
viewers of a presentation reads that stream with one blocking XREAD and hands
each event to its own viewers (memory.py's fan-out): one Redis read per change
per process, however many viewers. Who is watching is a sorted set of viewer
marks that expire unless their process renews them, so a killed process's
viewers drop out of the count by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from playground.live.memory import MemoryLiveStore, NotPresentingError, Room, Watcher, gen_event
from playground.live.state import LiveBehindError, LiveState, Push, apply_push
from playground.persistence.files import validate_files

log = logging.getLogger(__name__)

TTL = 24 * 3600  # s a presentation's state lives after its last change
MAX_EVENTS = 1000  # kept in the stream (a viewer catches up from the state, not the log)
VIEWER_TTL = 45.0  # s a viewer mark lives unless its process renews it
RENEW_EVERY = 15.0
ATTEMPTS = 5

# KEYS: version, state, log. ARGV: expected version, new state, event, ttl.
_SWAP = f"""
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
if tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], tonumber(ARGV[1]) + 1, 'EX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', {MAX_EVENTS}, '*', 'e', ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 1
"""


def _key(presentation: str, part: str = "") -> str:
    return f"flint:live:{presentation}{':' + part if part else ''}"


def _current_key(playground: str) -> str:
    return f"flint:live:pg:{playground}"


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RedisLiveStore(MemoryLiveStore):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.redis = aioredis.from_url(url)
        self._swap = self.redis.register_script(_SWAP)
        self._process = uuid.uuid4().hex[:12]
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._marks: dict[str, set[str]] = {}  # presentation -> this process's viewer marks
        self._renewer: asyncio.Task[None] | None = None

    async def begin(self, presentation: str, playground: str, state: LiveState) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(_key(presentation, "v"), state.version, ex=TTL, nx=True)
        pipe.set(_key(presentation), orjson.dumps(state.to_json()), ex=TTL, nx=True)
        pipe.set(_current_key(playground), presentation, ex=TTL)
        await pipe.execute()

    async def current(self, playground: str) -> str | None:
        return _text(await self.redis.get(_current_key(playground)))

    async def snapshot(self, presentation: str) -> LiveState | None:
        state, _ = await self._snapshot(presentation)
        return state

    async def _snapshot(self, presentation: str) -> tuple[LiveState | None, str]:
        """The state and the id of the last event in its stream, read atomically."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.get(_key(presentation))
        pipe.xrevrange(_key(presentation, "log"), count=1)
        raw, last = await pipe.execute()
        if raw is None:
            return None, "0-0"
        return LiveState.from_json(orjson.loads(raw)), (
            _text(last[0][0]) if last else "0-0"
        ) or "0-0"

    async def _change(
        self, presentation: str, change: Callable[[LiveState], tuple[LiveState, dict[str, Any]]]
    ) -> tuple[LiveState, dict[str, Any]]:
        seen = 0
        for _ in range(ATTEMPTS):
            state = await self.snapshot(presentation)
            if state is None or state.ended:
                raise NotPresentingError
            seen, (new, event) = state.version, change(state)
            done = await self._swap(
                keys=[_key(presentation, "v"), _key(presentation), _key(presentation, "log")],
                args=[state.version, orjson.dumps(new.to_json()), orjson.dumps(event), TTL],
            )
            if done == 1:
                return new, event
            if done == -1:
                raise NotPresentingError
        raise LiveBehindError(seen + 1, seen)  # another writer kept winning

    async def push(self, presentation: str, push: Push) -> dict[str, Any]:
        def change(state: LiveState) -> tuple[LiveState, dict[str, Any]]:
            new, update = apply_push(state, push)
            validate_files(new.files)
            return new, {"kind": "update", **update}

        _, event = await self._change(presentation, change)
        event.pop("kind")
        return event

    async def announce_gen(self, presentation: str, gen: str, instruction: str) -> None:
        def change(state: LiveState) -> tuple[LiveState, dict[str, Any]]:
            new = dataclasses.replace(
                state, version=state.version + 1, gen=gen, instruction=instruction
            )
            return new, gen_event(new)

        with contextlib.suppress(NotPresentingError):
            await self._change(presentation, change)

    async def end(self, playground: str, presentation: str) -> LiveState | None:
        def change(state: LiveState) -> tuple[LiveState, dict[str, Any]]:
            new = dataclasses.replace(state, version=state.version + 1, ended=True)
            return new, {"kind": "ended", "version": new.version}

        try:
            new, _ = await self._change(presentation, change)
        except NotPresentingError:
            new = None
        if await self.current(playground) == presentation:
            await self.redis.delete(_current_key(playground))
        return new

    # --- watchers --------------------------------------------------------------------

    async def watch(self, presentation: str, watcher: Watcher) -> LiveState | None:
        self._rooms.setdefault(presentation, Room()).watchers.add(watcher)
        # The first watcher to find no reader starts it at once (watchers arriving
        # together find it there, rather than each starting one: every event twice);
        # it reads on from where this watcher's snapshot ends.
        start: asyncio.Future[str] | None = None
        reader = self._readers.get(presentation)
        if reader is None or reader.done():
            start = asyncio.get_running_loop().create_future()
            self._readers[presentation] = asyncio.create_task(self._read(presentation, start))
        try:
            state, last = await self._snapshot(presentation)
        except BaseException:
            if start is not None:
                start.set_result("")  # no snapshot: the reader ends
            raise
        if start is not None:
            start.set_result(last if state is not None else "")
        if state is None:
            await self.unwatch(presentation, watcher)
            return None
        watcher.seen = state.version
        if watcher.viewer:
            watcher.id = f"{self._process}:{next(self._ids)}"
            count = await self._join(presentation, watcher.id)
            await self.publish(presentation, {"kind": "viewers", "count": count})
        return state

    async def viewers(self, presentation: str) -> int:
        key = _key(presentation, "viewers")
        await self.redis.zremrangebyscore(key, "-inf", time.time())
        return int(await self.redis.zcard(key))

    async def _join(self, presentation: str, viewer: str) -> int:
        self._marks.setdefault(presentation, set()).add(viewer)
        key = _key(presentation, "viewers")
        await self.redis.zadd(key, {viewer: time.time() + VIEWER_TTL})
        await self.redis.expire(key, TTL)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew())
        return await self.viewers(presentation)

    async def _leave(self, presentation: str, viewer: str) -> int:
        marks = self._marks.get(presentation, set())
        marks.discard(viewer)
        if not marks:
            self._marks.pop(presentation, None)
        await self.redis.zrem(_key(presentation, "viewers"), viewer)
        return await self.viewers(presentation)

    async def _renew(self) -> None:
        while self._marks:
            await asyncio.sleep(RENEW_EVERY)
            for presentation, marks in list(self._marks.items()):
                if marks:
                    expiry = time.time() + VIEWER_TTL
                    with contextlib.suppress(Exception):
                        await self.redis.zadd(
                            _key(presentation, "viewers"), dict.fromkeys(marks, expiry)
                        )

    async def publish(self, presentation: str, event: dict[str, Any]) -> None:
        # Unversioned events (the viewer count) go through the stream too: every
        # process's reader hands them on, this one's included.
        await self.redis.xadd(
            _key(presentation, "log"),
            {"e": orjson.dumps(event)},
            maxlen=MAX_EVENTS,
            approximate=True,
        )

    async def _read(self, presentation: str, start: asyncio.Future[str]) -> None:
        key = _key(presentation, "log")
        last = await start
        while last and presentation in self._rooms:
            try:
                answer: Any = await self.redis.xread({key: last}, block=5000, count=200)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("reading presentation %s from Redis failed; retrying", presentation)
                await asyncio.sleep(0.5)
                continue
            for _, entries in answer or ():
                for entry_id, fields in entries:
                    last = _text(entry_id) or last
                    self.deliver(presentation, orjson.loads(fields[b"e"]))

    def _drop_room(self, presentation: str) -> None:
        super()._drop_room(presentation)
        reader = self._readers.pop(presentation, None)
        if reader is not None and not reader.done():
            reader.cancel()

    async def aclose(self) -> None:
        for task in [*self._readers.values(), self._renewer]:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._readers.clear()
        await super().aclose()
        await self.redis.aclose()
