"""The model menu of one socket: ``models.list``, ``model.select``, ``model.fetch``.

Kept out of the consumer, which only dispatches to it. A socket keeps its
playground's choice (``choice``; ``key`` is its backend's key for
``inference.get_backend``): read at connect, changed by ``model.selected`` from any
socket of the playground in this process, and re-read from the row whenever the
socket's owner check re-reads it (a change made on another process).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from playground import persistence, protocol
from playground.errors import FlintError
from playground.inference import catalog, get_backend
from playground.inference.local import downloads
from playground.socket import rooms

Send = Callable[[dict[str, Any]], Awaitable[None]]


class ModelMenu:
    def __init__(self, playground: str, access: persistence.Access, send: Send) -> None:
        self.playground = playground
        self._send = send
        self._seen: persistence.Access | None = access
        self.choice, self.note = catalog.effective(access.model, access.model_endpoint)
        self._key_of: tuple[catalog.Choice, Any, str] | None = None

    @property
    def key(self) -> str:
        # Asked every turn: worked out again only when the choice or the configured
        # backend (which decides what the default is) has changed.
        backend = settings.FLINT_BACKEND
        if (
            self._key_of is None
            or self._key_of[0] is not self.choice
            or self._key_of[1] is not backend
        ):
            self._key_of = (self.choice, backend, catalog.backend_key(self.choice))
        return self._key_of[2]

    def refresh(self, access: persistence.Access | None) -> None:
        """Follow the row as the owner check last read it (when it read it anew)."""
        if access is not None and access is not self._seen:
            self._seen = access
            self.choice, _ = catalog.effective(access.model, access.model_endpoint)

    # -- the room -----------------------------------------------------------------------
    def join(self) -> None:
        rooms.join(self.playground, self.hear)

    def leave(self) -> None:
        rooms.leave(self.playground, self.hear)

    async def hear(self, message: dict[str, Any]) -> None:
        if message["type"] == "model.selected":
            self.choice, _ = catalog.effective(message["model"], message.get("endpoint", ""))
            message = {k: v for k, v in message.items() if k != "endpoint"}
        await self._send(message)

    # -- the messages ----------------------------------------------------------------------
    async def list(self) -> None:
        await self._send(protocol.models_listed(await catalog.listing(self.choice)))

    async def select(self, message: protocol.ModelSelect) -> None:
        try:
            choice = await catalog.validate(message.model, message.endpoint)
            get_backend(catalog.backend_key(choice))  # a setting it cannot run fails here
        except FlintError as exc:
            await self._send(protocol.error_from(exc))
            return
        stored = "" if choice == catalog.default_choice() else choice.id
        await persistence.playground_model_set_async(self.playground, stored, choice.endpoint)
        backend = get_backend(catalog.backend_key(choice))
        selected = protocol.model_selected(choice.id, backend.info.name, backend.info.model)
        # The endpoint rides along inside this process only (hear() drops it).
        await rooms.publish(self.playground, {**selected, "endpoint": choice.endpoint})

    async def fetch(self, message: protocol.ModelFetch) -> None:
        try:
            name = catalog.check_downloadable(message.model)
            if catalog.local_state(name)["state"] == "on_disk":
                await self._send(protocol.model_download(message.model, "done", {"on_disk": True}))
                return
            downloads.start(name, _announce)
        except FlintError as exc:
            await self._send(protocol.error_from(exc))


def _announce(event: str, download: downloads.Download) -> None:
    """A download's event, to every socket of this process (the file is the server's)."""
    fields = download.as_fields()
    if download.error:
        fields["message"] = download.error
    message = protocol.model_download(catalog.LOCAL + download.name, event, fields)
    task = asyncio.ensure_future(rooms.publish_all(message))
    _tasks.add(task)  # referenced until it ends (the loop keeps only weak ones)
    task.add_done_callback(_tasks.discard)


_tasks: set[asyncio.Future[None]] = set()
