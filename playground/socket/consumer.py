"""The playground socket: one per open playground, many generations over it.

Thin by design: validate a message, then start, stop or answer. A generation
runs in a task the consumer owns (see playground/generations/runner.py) and is cancelled on Stop
and on disconnect; ``receive`` never awaits a running generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from playground import persistence, protocol
from playground.checks import misconfigured
from playground.errors import FlintError
from playground.generations.quotas import get_limiter
from playground.generations.service import (
    Requester,
    start_generation,
)
from playground.hub import GenerationUnknownError, HubUnavailableError, get_hub
from playground.inference import get_backend
from playground.socket.models import ModelMenu
from playground.socket.presenter import Presenter
from playground.socket.throttle import TokenBucket

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # RFC 6455: policy violation (Daphne sends it: flint/serving.py)
CLOSE_NOT_FOUND = 4404
CLOSE_MISCONFIGURED = 4500  # the page shows the error sent before it and stops retrying
LIVE_PUSHES_PER_10S = 400  # the presenting page sends at most one per 40 ms (250)


class PlaygroundConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # untyped base
    # No channel layer: fan-out goes through the hub (playground/hub/), which batches
    # per frame. A layer would add a Redis receive loop to every socket.
    channel_layer_alias = None
    follower: asyncio.Task[None] | None = None
    owner_check: persistence.OwnerCheck | None = None
    models: ModelMenu | None = None
    presenter: Presenter | None = None  # once this socket presents (live.push)
    # The generation this socket started and follows: its events come to _direct as it
    # publishes them (sent at once, not a task switch later), and the follower skips
    # those up to direct_seq.
    direct_gen: str | None = None
    direct_seq = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Channels' loop (await_many_dispatch) wraps every inbound message in a new
        # task and an asyncio.wait, made to merge a channel layer's queue with the
        # client's; without a layer there is one queue, read here directly, one
        # message at a time as before.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            while True:
                await self.dispatch(await receive())

    async def connect(self) -> None:
        self.playground_id = self.scope["url_route"]["kwargs"]["playground_id"]
        self.token = persistence.scope_owner_token(self.scope)
        client = self.scope.get("client") or (None, None)
        self.requester = Requester.of(self.token, client[0])
        state = await persistence.access_check(self.playground_id, self.token)
        if state is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.bucket = TokenBucket(settings.FLINT_RATE_MESSAGES, settings.FLINT_RATE_WINDOW)
        self.live_bucket = TokenBucket(LIVE_PUSHES_PER_10S, 10.0)
        await self.accept()
        try:
            self.models = ModelMenu(self.playground_id, state, self.send_json)
            ready = await self._session_ready(state)
        except Exception as exc:  # e.g. an unknown local model: say so, don't just drop
            log.exception("cannot start a session for %s", self.playground_id)
            await self.send_json(protocol.error_from(misconfigured(exc)))
            await self.close(code=CLOSE_MISCONFIGURED)
            return
        await self.send_json(ready)
        self.models.join()

    async def _session_ready(self, state: Any) -> dict[str, Any]:
        assert self.models is not None
        backend = get_backend(self.models.key)
        return protocol.session_ready(
            playground=self.playground_id,
            backend=backend.info.name,
            model=backend.info.model,
            model_id=self.models.choice.id,
            model_note=self.models.note,
            max_message_bytes=settings.FLINT_MAX_MESSAGE_BYTES,
            running=await get_hub().running(self.playground_id),
            allowance=await self._allowance(),
            role="owner" if state.owner else "viewer",
            version=state.version,
        )

    async def _allowance(self) -> dict[str, Any]:
        return await get_limiter().allowance(self.requester.user, self.requester.ip)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every inbound message,
        # a thread hop (~0.3-0.5 ms of CPU) per turn. Every database call of this
        # consumer goes through database_sync_to_async, which does the same in its
        # own thread around the call, so the hop here buys nothing.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        # The generation itself keeps running for FLINT_ORPHAN_GRACE seconds so
        # a reloaded page can pick it up (gen.resume); only stop following it.
        if self.models is not None:
            self.models.leave()
        if self.presenter is not None:
            await self.presenter.stop()
        await self._unfollow()

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=protocol.dumps(message))

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # A presenter's pushes (one per 40 ms while typing) have a bucket of their own,
        # so presenting never eats the budget of everything else (nor the reverse).
        # A message that only says "live.push" near its start is charged there too:
        # either way it is bounded.
        pushing = text_data is not None and '"live.push"' in text_data[:64]
        wait = (self.live_bucket if pushing else self.bucket).take()
        if wait:
            if self.bucket.abusive or self.live_bucket.abusive:
                await self.close(code=CLOSE_POLICY)
                return
            await self.send_json(
                protocol.error(
                    "protocol.rate_limited",
                    f"Too many messages on this socket; wait {wait:.1f} s before sending more.",
                    retryable=True,
                    retry_after=wait,
                )
            )
            return
        if text_data is None:
            await self.send_json(
                protocol.error(
                    "protocol.binary", "Binary frames are not part of the protocol; send JSON text."
                )
            )
            return
        size = len(text_data.encode())
        if size > settings.FLINT_MAX_MESSAGE_BYTES:
            await self.send_json(
                protocol.error(
                    "protocol.too_large",
                    f"Message is {size} bytes; the limit is {settings.FLINT_MAX_MESSAGE_BYTES}.",
                    limit=settings.FLINT_MAX_MESSAGE_BYTES,
                )
            )
            return
        try:
            message = protocol.decode(text_data)
        except protocol.ProtocolError as exc:
            await self.send_json(protocol.error_from(exc))
            return
        await self.dispatch_message(message)

    async def dispatch_message(self, message: protocol.ClientMessage) -> None:
        if isinstance(message, _WRITES) and not await self._owner():
            await self.send_json(
                protocol.error(
                    "auth.forbidden",
                    "This playground is read-only for you; fork it to make your own copy.",
                )
            )
            return
        if isinstance(message, protocol.FilesSave):
            await self.on_save(message)
        elif isinstance(message, protocol.GenStart):
            await self.on_start(message)
        elif isinstance(message, protocol.GenStop):
            await self.on_control(message.gen, "stop", {})
        elif isinstance(message, protocol.GenSteer):
            await self.on_control(message.gen, "steer", {"instruction": message.instruction})
        elif isinstance(message, protocol.GenResume):
            await self.on_resume(message)
        elif isinstance(message, protocol.ModelsList):
            await self._menu().list()
        elif isinstance(message, protocol.ModelSelect):
            await self._menu().select(message)
        elif isinstance(message, protocol.ModelFetch):
            await self._menu().fetch(message)
        elif isinstance(message, protocol.LivePush):
            if self.presenter is None:
                self.presenter = Presenter(self.playground_id, self._send_text)
            await self.send_json(await self.presenter.push(message))
        else:
            await self.send_json(protocol.pong(message.t))

    async def _owner(self) -> bool:
        # Checked on every write, not just at connect: cached per socket, and re-read
        # from the database whenever the playground's ownership stamp has moved (a
        # claim, a revoked capability), so a change takes effect on the next write.
        if self.owner_check is None:
            self.owner_check = persistence.OwnerCheck(self.playground_id, self.token)
        owner = await self.owner_check.owner()
        self._menu().refresh(self.owner_check.access)  # a model chosen on another process
        return owner

    def _menu(self) -> ModelMenu:
        assert self.models is not None  # set in connect, before any message is read
        return self.models

    async def _belongs_here(self, gen: str) -> bool:
        """Whether ``gen`` is a generation of this socket's playground.

        The id comes from the client, so it is checked before it reaches the hub
        or the database: a generation is stopped, steered, followed or named in
        a save only through a socket of its own playground. The hub knows the
        generations whose logs it keeps; the database knows every recorded one.
        """
        home: str | None = await get_hub().playground_of(gen)
        if home is None:
            home = await persistence.generation_playground_async(gen)
        return bool(home == self.playground_id)

    async def on_save(self, message: protocol.FilesSave) -> None:
        if message.gen is not None and not await self._belongs_here(message.gen):
            await self.send_json(
                protocol.error(
                    "gen.unknown",
                    "That generation is not one of this playground's; save without naming it.",
                    gen=message.gen,
                )
            )
            return
        try:
            result = await persistence.save_async(
                self.playground_id,
                message.files,
                base_version=message.base_version,
                author=message.author,
                generation_id=message.gen,
            )
        except FlintError as exc:  # files.invalid, save.conflict, playground.not_found
            await self.send_json(protocol.error_from(exc))
            return
        await self.send_json(protocol.files_saved(result.version, result.saved))

    async def on_start(self, message: protocol.GenStart) -> None:
        try:
            generation = await start_generation(
                self.playground_id,
                message,
                self.requester,
                model=self._menu().key,
                direct=self._direct,
            )
        except FlintError as exc:  # gen.busy, rate.limited, gen.too_large
            await self.send_json(protocol.error_from(exc))
            return
        await self._follow(generation.id, 0)
        if generation.relay.seq == 0:  # nothing published yet: none can come out of order
            self.direct_gen, self.direct_seq = generation.id, 0
        if self.presenter is not None:  # the viewers follow it too
            await self.presenter.started(generation.id, message.instruction)

    async def on_control(self, gen: str | None, action: str, payload: dict[str, Any]) -> None:
        gen = gen or await get_hub().running(self.playground_id)
        if (
            gen is None
            or not await self._belongs_here(gen)
            or not await get_hub().control(gen, action, payload)
        ):
            await self.send_json(
                protocol.error(
                    "gen.not_running", f"There is no running generation to {action}.", gen=gen
                )
            )

    async def on_resume(self, message: protocol.GenResume) -> None:
        if not await self._belongs_here(message.gen):
            # The same answer as for an id that never existed: nothing to learn here.
            await self.send_json(await self._unknown(message.gen, own=False))
            return
        await self._follow(message.gen, message.after)

    async def _follow(self, gen: str, after: int) -> None:
        await self._unfollow()
        self.follower = asyncio.create_task(self._forward(gen, after))

    async def _direct(self, event: dict[str, Any]) -> None:
        if event.get("gen") == self.direct_gen:
            self.direct_seq = event["seq"]
            await self.send_json(event)

    async def _forward(self, gen: str, after: int) -> None:
        try:
            async for event in get_hub().follow(gen, after):
                if gen != self.direct_gen or event["seq"] > self.direct_seq:
                    await self.send_json(event)
                if event["type"] == "error" and event.get("code") == "gen.interrupted":
                    # Its process died (hub/redis.py): its record, left "running" there,
                    # is closed here (by the first follower; the others find it closed).
                    await persistence.generation_close_interrupted_async(gen, event["message"])
                elif event["type"] == "gen.done":
                    # The finished generation's tokens are charged by now. Only news for
                    # the page: with Redis away (restarting) it is left out, not fatal.
                    try:
                        allowance = await self._allowance()
                    except Exception:
                        log.warning("no allowance after gen.done", exc_info=True)
                    else:
                        await self.send_json(protocol.allowance(allowance))
        except GenerationUnknownError:
            await self.send_json(await self._unknown(gen))
        except HubUnavailableError as exc:  # Redis away too long, or back without events
            await self.send_json(protocol.error_from(exc, gen=gen))

    async def _unknown(self, gen: str, *, own: bool = True) -> dict[str, Any]:
        if own and await persistence.generation_died_in_restart_async(gen):
            # Not "expired": the process writing it is gone, and so is its log.
            return protocol.error(
                "gen.unknown",
                f"{persistence.RESTART_NOTE} Ask again to continue.",
                gen=gen,
                reason="server_restart",
            )
        return protocol.error_from(GenerationUnknownError(gen), gen=gen)

    async def _unfollow(self) -> None:
        self.direct_gen = None
        if self.follower is not None and not self.follower.done():
            self.follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.follower
        self.follower = None


# Messages that change the playground or spend the owner's model budget (or disk).
_WRITES = (
    protocol.GenStart,
    protocol.GenStop,
    protocol.GenSteer,
    protocol.FilesSave,
    protocol.ModelSelect,
    protocol.ModelFetch,
    protocol.LivePush,
)
