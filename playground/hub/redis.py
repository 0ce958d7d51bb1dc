"""The hub for several server processes: logs in Redis Streams, control over pub/sub.

Local watchers of a generation running in this process read the in-memory log
(no Redis round trip on the hot path); the Redis Stream mirrors it for watchers
on other processes and for replay after a reconnect. A generation's log is a Redis
Stream, trimmed and expiring after ``FLINT_EVENT_LOG_TTL``; stop/steer requests
from other processes arrive over Redis pub/sub; which generation runs in a
playground is a Redis key, so "one per playground" holds across processes.
Frames are already coalesced, so Redis is paid per frame, never per token, and the
frames of every generation of the process are written in batches: one pipeline (one
round trip) carries all the events published while the previous one was in flight
(issue #15), in order, and each ``publish`` returns once its batch is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from playground.hub.base import Control, GenerationUnknownError, HubUnavailableError
from playground.hub.memory import MemoryHub
from playground.registry import redis_retry

log = logging.getLogger(__name__)

CONTROL_CHANNEL = "flint:ctl"
CLAIM_TTL = 10.0  # s (FLINT_CLAIM_TTL); a running generation refreshes its claim, a dead one lapses
WATCH_TTL = 5  # s; a remote watcher refreshes its mark while it follows
MAX_EVENTS = 100_000
LOCAL_TTL = 30.0  # s a finished log stays in this process's memory too (Redis has it)
OUTAGE = 30.0  # s Redis may be unreachable (a restart) before writers and followers give up
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)
RUNNING_LOG_TTL = (
    3600  # s; a running generation's log (and its playground mark) is renewed by each event
)


def _text(value: bytes | str | None) -> str | None:
    """A Redis reply as text (the client returns bytes)."""
    if value is None or value == b"":
        return None
    return value.decode() if isinstance(value, bytes) else value


def _stream(gen: str) -> str:
    return f"flint:gen:{gen}"


def claim_key(playground: str) -> str:
    """The Redis key naming the generation that runs in ``playground`` (if any)."""
    return f"flint:pg:{playground}:gen"


def _home(gen: str) -> str:
    return f"flint:gen:{gen}:pg"  # the generation's playground; lives as long as its log


class RedisHub(MemoryHub):
    def __init__(self, url: str, ttl: float = 600, claim_ttl: float = CLAIM_TTL) -> None:
        super().__init__(ttl)
        # Redis keeps a finished log for the TTL; this process's copy only serves the
        # followers it already has. Kept the whole TTL, a 10-minute soak grew every
        # process by 12-30 MB of answers Redis holds anyway (bench/scaled_bench.py).
        self.local_ttl = min(ttl, LOCAL_TTL)
        self.redis = aioredis.from_url(url, retry=redis_retry())
        self.claim_ms = max(1, int(claim_ttl * 1000))
        self._listener: asyncio.Task[None] | None = None
        # Events waiting for the next batch: (generation, encoded event, is gen.done),
        # and the future their publishers wait on.
        self._outbox: list[tuple[str, bytes, bool]] = []
        self._outbox_written: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def claim(self, playground: str, gen: str) -> str | None:
        key = claim_key(playground)
        if await self.redis.set(key, gen, nx=True, px=self.claim_ms):
            self._homes[gen] = playground
            await self.redis.set(_home(gen), playground, ex=RUNNING_LOG_TTL)
            return None
        return _text(await self.redis.get(key))

    async def refresh_claim(self, playground: str, gen: str) -> None:
        key = claim_key(playground)
        if _text(await self.redis.get(key)) == gen:
            await self.redis.pexpire(key, self.claim_ms)

    async def release(self, playground: str, gen: str) -> None:
        key = claim_key(playground)
        if _text(await self.redis.get(key)) == gen:
            await self.redis.delete(key)

    async def running(self, playground: str) -> str | None:
        return _text(await self.redis.get(claim_key(playground)))

    async def playground_of(self, gen: str) -> str | None:
        if (local := await super().playground_of(gen)) is not None:
            return local
        return _text(await self.redis.get(_home(gen)))

    async def open(self, gen: str, control: Control) -> None:
        await super().open(gen, control)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())

    async def publish(self, gen: str, event: dict[str, Any]) -> None:
        await super().publish(gen, event)  # local watchers have it now
        if self._outbox_written is None:
            self._outbox_written = asyncio.get_running_loop().create_future()
        written = self._outbox_written
        self._outbox.append((gen, orjson.dumps(event), event["type"] == "gen.done"))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        # Shielded: a publisher cancelled while it waits must not cancel its batch-mates.
        await asyncio.shield(written)

    async def _write_batches(self) -> None:
        """Write the outbox, one pipeline per batch, until nothing is left in it."""
        done_ms = max(1, int(self.ttl * 1000))
        while self._outbox:
            batch, self._outbox = self._outbox, []
            written, self._outbox_written = self._outbox_written, None
            assert written is not None
            try:
                await self._execute_through_outage(
                    functools.partial(self._pipeline, batch, done_ms)
                )
            except BaseException as exc:
                written.set_exception(exc if isinstance(exc, Exception) else ConnectionError())
                written.exception()  # each publisher raises it; none left unretrieved
                if not isinstance(exc, Exception):  # cancelled: fail what waits, too
                    if self._outbox_written is not None:
                        self._outbox_written.set_exception(ConnectionError())
                        self._outbox_written.exception()
                        self._outbox, self._outbox_written = [], None
                    raise
            else:
                written.set_result(None)

    def _pipeline(self, batch: list[tuple[str, bytes, bool]], done_ms: int) -> Any:
        pipe = self.redis.pipeline(transaction=False)
        lives: dict[str, int] = {}
        for gen, data, done in batch:
            pipe.xadd(_stream(gen), {"e": data}, maxlen=MAX_EVENTS, approximate=True)
            # Bounded life: a running log lasts the claim's refreshes; a finished one,
            # ttl (in ms: EXPIRE's whole seconds would turn a ttl under 1 s into
            # "delete now"). A generation's last event in the batch decides.
            lives[gen] = done_ms if done else RUNNING_LOG_TTL * 1000
        for gen, life_ms in lives.items():
            pipe.pexpire(_stream(gen), life_ms)
            pipe.pexpire(_home(gen), life_ms)
        return pipe

    async def _execute_through_outage(self, pipeline: Callable[[], Any]) -> None:
        """Run a new ``pipeline()``; while Redis is unreachable (restarting), a new one
        again (a failed pipeline is emptied), for up to OUTAGE s.

        The publishers wait meanwhile (the generation pauses; its local watchers
        already have the events), and nothing is dropped. A batch that Redis applied
        before the connection broke may be written twice: followers skip a seq they
        have had (``_follow_remote``).
        """
        began, pause = time.monotonic(), 0.05
        while True:
            try:
                await pipeline().execute()
                return
            except REDIS_DOWN:
                if time.monotonic() - began > OUTAGE:
                    raise
                log.warning("Redis unreachable: writing a batch of events again")
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)

    async def watched_since(self, gen: str) -> float | None:
        local = await super().watched_since(gen)
        try:
            if await self.redis.exists(f"{_stream(gen)}:watch"):
                return time.monotonic()
        except REDIS_DOWN:
            # Unknown while Redis is away: a remote watcher may be there, so the
            # generation is not stopped as abandoned (and its claim renewals go on).
            return time.monotonic() if local is not None else None
        return local

    async def follow(self, gen: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        if gen in self._logs:
            async for event in super().follow(gen, after):
                yield event
            return
        async for event in self._follow_remote(gen, after):
            yield event

    async def _follow_remote(self, gen: str, after: int) -> AsyncIterator[dict[str, Any]]:
        key = _stream(gen)
        if not await self.redis.exists(key):
            raise GenerationUnknownError(gen)
        last_id = "0-0"
        down_since: float | None = None  # Redis unreachable since (restarting)
        while True:
            try:
                await self.redis.set(f"{key}:watch", 1, ex=WATCH_TTL)
                batches: Any = await self.redis.xread({key: last_id}, block=2000, count=1000)
                if not batches and not await self.redis.exists(key):
                    raise GenerationUnknownError(gen)
                if not batches and await self._runner_died(gen):
                    await self._end_for_dead_runner(gen, after)  # read back by the next XREAD
            except REDIS_DOWN:
                # Follow on from the last entry read once Redis is back: no gap, no repeat.
                down_since = down_since or time.monotonic()
                if time.monotonic() - down_since > OUTAGE:
                    raise HubUnavailableError(gen) from None
                await asyncio.sleep(0.2)
                continue
            down_since = None
            for _, entries in batches or ():
                for entry_id, fields in entries:
                    last_id = entry_id
                    event = orjson.loads(fields[b"e"])
                    if event["seq"] <= after:
                        continue  # before the resume point, or a batch written twice
                    if event["seq"] != after + 1 and event.get("code") != "gen.interrupted":
                        # Events lost (a Redis restarted without them): say so, never skip.
                        # (A dead runner's ending may follow a gap: _end_for_dead_runner.)
                        raise HubUnavailableError(gen)
                    after = event["seq"]
                    yield event
                    if event["type"] == "gen.done":
                        return

    async def _runner_died(self, gen: str) -> bool:
        """The log is not finished and no process claims its playground any more.

        A running generation refreshes its claim every second (generations/
        service.py); one whose process was killed lets it lapse after claim_ttl.
        """
        playground = _text(await self.redis.get(_home(gen)))
        if playground is None or await self.redis.get(claim_key(playground)) == gen.encode():
            return False
        return await self._running_elsewhere(gen)

    async def _end_for_dead_runner(self, gen: str, after: int) -> None:
        """End the log of a generation whose process died: one follower writes it.

        The runner sends to its own sockets before the Stream, so a page that was
        on the dead process may have seen events the Stream never got: numbered
        after what the resuming page saw (``after``), the ending is neither a gap
        nor a duplicate for it (the lost events are lost for every follower).
        """
        key = _stream(gen)
        if not await self.redis.set(f"{key}:ended", 1, nx=True, ex=RUNNING_LOG_TTL):
            return  # another follower is ending it
        last: Any = await self.redis.xrevrange(key, count=1)
        seq = max(int(orjson.loads(last[0][1][b"e"])["seq"]) if last else 0, after)
        from playground.protocol.server import error, event

        said = error(
            "gen.interrupted",
            "The server process running this answer stopped; the answer ends here. "
            "What it streamed and applied so far is kept; ask again to go on.",
            gen=gen,
            seq=seq + 1,
        )
        done = event("gen.done", gen, seq + 2, reason="error", partial=True, stats={})
        pipe = self.redis.pipeline(transaction=False)
        for ending in (said, done):
            pipe.xadd(key, {"e": orjson.dumps(ending)}, maxlen=MAX_EVENTS, approximate=True)
        pipe.pexpire(key, max(1, int(self.ttl * 1000)))
        await pipe.execute()

    async def control(self, gen: str, action: str, payload: dict[str, Any]) -> bool:
        if await super().control(gen, action, payload):
            return True
        if not await self._running_elsewhere(gen):
            return False  # unknown or finished: no process holds a handler for it
        message = orjson.dumps({"gen": gen, "action": action, "payload": payload})
        return bool(await self.redis.publish(CONTROL_CHANNEL, message))

    async def _running_elsewhere(self, gen: str) -> bool:
        """Whether ``gen`` has a log in Redis that has not ended with gen.done."""
        last: Any = await self.redis.xrevrange(_stream(gen), count=1)
        return bool(last) and orjson.loads(last[0][1][b"e"])["type"] != "gen.done"

    async def _listen(self) -> None:
        """Stop/steer requests from other processes; subscribed again after Redis restarts."""
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(CONTROL_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = orjson.loads(message["data"])
                    handler = self._controls.get(data["gen"])
                    if handler is not None:
                        await handler(data["action"], data["payload"])
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN:
                log.warning("control listener: Redis unreachable; subscribing again")
                await asyncio.sleep(0.5)
            except Exception:
                log.exception("control listener failed")
                return
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        if self._writer is not None and not self._writer.done():
            with contextlib.suppress(Exception):
                await self._writer  # what was published is written before closing
        if self._listener is not None:
            # redis-py swallows a cancel that lands while SUBSCRIBE is in flight (the
            # first open() of a process): ask until the listener has really stopped.
            while not self._listener.done():
                self._listener.cancel()
                await asyncio.wait([self._listener], timeout=0.1)
        await self.redis.aclose()
