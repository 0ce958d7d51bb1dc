"""The playground socket: one per open playground, many generations over it.

Thin by design: validate a message, then start, stop or answer. A generation
runs in a task the consumer owns (see generation.py) and is cancelled on Stop
and on disconnect; ``receive`` never awaits a running generation.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from . import protocol
from .generation import Generation
from .inference import get_backend
from .limits import TokenBucket
from .models import Playground
from .prompting import ContextTooLargeError
from .turns import prepare_generation

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # RFC 6455: policy violation
CLOSE_NOT_FOUND = 4404


class PlaygroundConsumer(AsyncWebsocketConsumer):
    generation: Generation | None = None

    async def connect(self) -> None:
        self.playground_id = self.scope["url_route"]["kwargs"]["playground_id"]
        if not await _playground_exists(self.playground_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.bucket = TokenBucket(settings.FLINT_RATE_MESSAGES, settings.FLINT_RATE_WINDOW)
        await self.accept()
        backend = get_backend()
        await self.send_json(
            protocol.session_ready(
                playground=self.playground_id,
                backend=backend.info.name,
                model=backend.info.model,
                max_message_bytes=settings.FLINT_MAX_MESSAGE_BYTES,
            )
        )

    async def disconnect(self, code: int) -> None:
        if self.generation is not None and self.generation.task is not None:
            self.generation.task.cancel()  # closes the upstream stream; nobody to tell

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=protocol.dumps(message))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        wait = self.bucket.take()
        if wait:
            if self.bucket.abusive:
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
            await self.send_json(protocol.error(exc.code, exc.message))
            return
        await self.dispatch_message(message)

    async def dispatch_message(self, message: protocol.ClientMessage) -> None:
        if isinstance(message, protocol.GenStart):
            await self.start_generation(message)
        elif isinstance(message, protocol.GenStop):
            await self.stop_generation(message)
        else:
            await self.send_json(protocol.pong(message.t))

    async def start_generation(self, message: protocol.GenStart) -> None:
        if self.generation is not None and not self.generation.task.done():  # type: ignore[union-attr]
            await self.send_json(
                protocol.error(
                    "gen.busy",
                    "A generation is already running in this playground; stop it first.",
                    retryable=True,
                )
            )
            return
        try:
            self.generation = prepare_generation(message, self.send_json)
        except ContextTooLargeError as exc:
            await self.send_json(protocol.error("gen.too_large", str(exc)))
            return
        self.generation.start()

    async def stop_generation(self, message: protocol.GenStop) -> None:
        gen = self.generation
        if gen is None or gen.task is None or gen.task.done() or message.gen not in (None, gen.id):
            await self.send_json(
                protocol.error(
                    "gen.not_running", "There is no running generation to stop.", gen=message.gen
                )
            )
            return
        await gen.stop("stopped")


@database_sync_to_async
def _playground_exists(playground_id: str) -> bool:
    return Playground.objects.filter(id=playground_id).exists()
