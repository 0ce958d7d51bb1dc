"""Turn a validated ``gen.start`` into a running Generation, wired to the hub.

Shared by the socket consumer and the HTTP endpoint so both do exactly the same
work per turn (the benchmark compares them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from playground import persistence, protocol
from playground.edits import EditStream
from playground.edits.offsets import utf16_to_py
from playground.errors import FlintError
from playground.generations.prompt import STOP, build_messages
from playground.generations.quotas import Refusal, get_limiter
from playground.generations.relay import Send
from playground.generations.runner import Generation, OnEnding, OnFinish, new_generation_id
from playground.generations.stats import RetryPolicy
from playground.generations.transcript import TranscriptLog
from playground.hub import Hub, get_hub
from playground.inference import get_backend
from playground.inference.base import ChatRequest, Message
from playground.inference.queue import queue_for
from playground.persistence.ownership import hash_owner_token

log = logging.getLogger(__name__)


class RateLimitedError(FlintError):
    """Over a per-browser or per-IP limit on generations or tokens."""

    code = "rate.limited"
    status = 429

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(
            refusal.message(),
            retryable=True,
            retry_after=refusal.retry_after,
            limit=refusal.what,
            scope=refusal.who,
        )
        self.refusal = refusal


class PlaygroundBusyError(FlintError):
    """One generation runs per playground, across every socket and process."""

    code = "gen.busy"
    status = 409
    retryable_default = True

    def __init__(self, running: str) -> None:
        super().__init__(
            "A generation is already running in this playground; stop or steer it.",
            running=running,
        )
        self.running = running


@dataclass(frozen=True)
class Requester:
    """Who asks: a browser (hash of its owner cookie) and a network address."""

    user: str | None
    ip: str | None

    @classmethod
    def of(cls, owner_cookie: str | None, ip: str | None) -> Requester:
        # The limiter keys a browser by the same hash the database keeps.
        return cls(hash_owner_token(owner_cookie) if owner_cookie else None, ip)


async def admit(requester: Requester) -> None:
    """Apply the per-user and per-IP limits; raises RateLimitedError."""
    refusal = await get_limiter().admit(requester.user, requester.ip)
    if refusal is not None:
        raise RateLimitedError(refusal)


async def start_generation(
    playground: str,
    message: protocol.GenStart,
    requester: Requester,
    *,
    model: str | None = None,
    direct: Send | None = None,
) -> Generation:
    """Claim the playground, build the generation and start it: the one way in.

    Used by the socket and by the HTTP endpoint alike. The generation publishes
    to the hub, so any number of followers (the socket that asked, a reloaded
    page, an SSE response) read the same events. Raises (all FlintErrors):
    PlaygroundBusyError if one already runs there (on any process),
    RateLimitedError over a limit, ContextTooLargeError if the prompt cannot
    fit the model's budget. ``model`` is the playground's chosen backend (a key of
    ``inference.get_backend``; None: the configured one). ``direct``, if given, is
    handed each event as it is published, before the hub has it: the socket that asked
    sends it to its page at once, where its follower would wake a loop pass later (it
    skips what was sent so).
    """
    hub = get_hub()
    gen_id = new_generation_id()

    async def ending(gen: Generation) -> None:
        # Before gen.done: a page that asks again the moment it reads gen.done must find
        # the playground free (after it, with Redis, it raced the release: gen.busy).
        await hub.release(playground, gen.id)

    async def finished(gen: Generation, reason: str) -> None:
        await get_limiter().charge(requester.user, requester.ip, gen.stats.tokens)
        # The turn's one database write, after gen.done has gone out, on the record
        # writer's thread: the record with what was asked and answered, and the
        # transcript's events (off the path of the next first token).
        watch.cancel()
        # Handed over on the loop's next pass, after the followers woken by gen.done
        # (queued before this) have sent it: waking the writer thread sooner lets it take
        # the GIL from the loop while gen.done is on its way to the page (~0.1-0.3 ms).
        asyncio.get_running_loop().call_soon(
            functools.partial(
                record.finish,
                "".join(gen.answer),
                reason,
                gen.stats.as_wire(),
                transcript.events,
                backfill=bool(settings.FLINT_REDIS_URL),  # saves may land on another process
            )
        )

    # What the page's transcript shows of this generation after a reload.
    transcript = TranscriptLog(message.files)

    async def publish(event: dict[str, Any]) -> None:
        nonlocal direct
        transcript.add(event)
        if direct is not None:
            try:
                await direct(event)
            except Exception:  # the page's own follower still has it from the hub
                log.exception("generation %s: direct send failed", gen_id)
                direct = None
        await hub.publish(gen_id, event)

    generation = build_generation(
        message,
        publish=publish,
        gen_id=gen_id,
        on_finish=finished,
        on_ending=ending,
        session=playground,
        model=model,
    )
    rival = await hub.running(playground)
    if rival is not None:
        raise PlaygroundBusyError(rival)
    await admit(requester)
    rival = await hub.claim(playground, gen_id)
    if rival is not None:
        raise PlaygroundBusyError(rival)
    # Written when the generation ends; begun before that only if it runs long, so
    # that one dying with its process leaves a "running" record that the next
    # start-up closes (flint/serving.py) and a resume can explain (records.py).
    record = persistence.TurnRecord(playground, gen_id, message.instruction)

    async def control(action: str, payload: dict[str, Any]) -> None:
        if action == "stop":
            await generation.stop("stopped")
        elif action == "steer":
            generation.steer(str(payload.get("instruction", "")))

    await hub.open(generation.id, control)
    generation.start()
    watch = _Watch(generation, hub, playground)
    return generation


# Background tasks are referenced until they end (the loop keeps only weak ones).
_background: set[asyncio.Task[None]] = set()


def _keep(task: asyncio.Task[None]) -> None:
    _background.add(task)
    task.add_done_callback(_background.discard)


class _Watch:
    """Stop a generation nobody has watched for FLINT_ORPHAN_GRACE seconds.

    Checked every min(1 s, grace / 4) while the generation runs, from a timer: a
    turn shorter than that starts no task for it (and keeps nothing alive after it).
    """

    __slots__ = ("generation", "grace", "hub", "interval", "playground", "timer")

    def __init__(self, generation: Generation, hub: Hub, playground: str) -> None:
        self.generation = generation
        self.hub = hub
        self.playground = playground
        self.grace = settings.FLINT_ORPHAN_GRACE
        self.interval = min(1.0, self.grace / 4)
        self.timer: asyncio.TimerHandle | None = None
        self._schedule()

    def _schedule(self) -> None:
        self.timer = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def _tick(self) -> None:
        self.timer = None
        if self.generation.running:
            _keep(asyncio.create_task(self._check()))

    async def _check(self) -> None:
        generation = self.generation
        with contextlib.suppress(Exception):
            await self.hub.refresh_claim(self.playground, generation.id)
        since = await self.hub.watched_since(generation.id)
        if since is not None and time.monotonic() - since > self.grace:
            await generation.stop("abandoned")
        elif generation.running:
            self._schedule()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def build_generation(
    message: protocol.GenStart,
    *,
    publish: Send,
    gen_id: str,
    on_finish: OnFinish,
    on_ending: OnEnding | None = None,
    session: str | None = None,
    model: str | None = None,
) -> Generation:
    """Build the prompt and the generation with all it needs; raises ContextTooLargeError.

    ``session`` (the playground) lets a backend keep per-session state across turns;
    ``model`` picks the backend (``inference.get_backend``'s key).
    """
    backend = get_backend(model)
    files = dict(message.files)
    budget = min(settings.FLINT_CONTEXT_TOKENS, backend.context_tokens or 10**9)
    # A whole-file answer largely repeats the active file: offer it as the predicted
    # output (sent by backends configured for it, PREDICTION=true).
    prediction = (
        files.get(message.active)
        if backend.info.edit_format == "whole_file" and message.active
        else None
    )

    def messages(files: dict[str, str], instruction: str, history: tuple[Message, ...]) -> Any:
        return build_messages(
            instruction=instruction,
            files=files,
            active=message.active,
            edit_format=backend.info.edit_format,
            budget_tokens=budget,
            selection=_selection_text(message) if not history else None,
            history=history,
            # This generation's backend, not the loop's default one: its size profile
            # and its own tokenizer (the local model's, when loaded).
            model=backend.info.model,
            count_tokens=getattr(backend, "count_tokens", None),
        )

    def continuation(files: dict[str, str], kept: str, correction: str) -> ChatRequest:
        # The files already carry the applied edits; the model sees what it
        # wrote so far and the user's correction, and carries on from there.
        history = (Message("user", message.instruction), Message("assistant", kept))
        note = (
            f"{correction}\n\n(The user interrupted your answer above to say this. Edits you "
            "finished are already applied to the files shown. Continue from there.)"
        )
        active = files.get(message.active) if prediction is not None and message.active else None
        return ChatRequest(
            messages=messages(files, note, history),
            session=session,
            prediction=active,
            stop=STOP,
        )

    return Generation(
        backend=backend,
        request=ChatRequest(
            messages=messages(files, message.instruction, ()),
            session=session,
            prediction=prediction,
            stop=STOP,
        ),
        send=publish,
        retry=RetryPolicy(settings.FLINT_RETRIES, settings.FLINT_RETRY_MAX_WAIT),
        frame_interval=settings.FLINT_FRAME_INTERVAL,
        frame_max_tokens=settings.FLINT_FRAME_MAX_TOKENS,
        # Edits are computed against the files the client sent with gen.start;
        # the page rebases them onto whatever the user typed since.
        edits=EditStream(files, active=message.active),
        new_edits=lambda f: EditStream(f, active=message.active),
        continuation=continuation,
        gen_id=gen_id,
        on_finish=on_finish,
        on_ending=on_ending,
        queue=queue_for(
            f"{backend.info.name}:{backend.info.model}",
            backend.max_concurrent or settings.FLINT_MAX_CONCURRENT,
            settings.FLINT_QUEUE_SIZE,
        ),
    )


def _selection_text(message: protocol.GenStart) -> tuple[str, str] | None:
    sel = message.selection
    if sel is None or sel.path not in message.files:
        return None
    text = message.files[sel.path]
    # Wire offsets are UTF-16 units (the editor's); Python indexes code points.
    return sel.path, text[utf16_to_py(text, sel.start) : utf16_to_py(text, sel.end)]
