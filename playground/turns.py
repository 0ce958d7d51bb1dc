"""Turn a validated ``gen.start`` into a ready-to-run Generation.

Shared by the socket consumer and the HTTP endpoint so both do exactly the same
work per turn (the benchmark compares them).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from . import protocol
from .edits import EditApplied, EditEvent, EditStream
from .edits.offsets import utf16_to_py
from .generation import Generation, RetryPolicy
from .inference import get_backend
from .inference.base import ChatRequest
from .prompting import build_messages
from .relay import Send


def prepare_generation(message: protocol.GenStart, send: Send) -> Generation:
    """Build the prompt and the generation; raises ContextTooLargeError."""
    backend = get_backend()
    messages = build_messages(
        instruction=message.instruction,
        files=message.files,
        active=message.active,
        edit_format=backend.info.edit_format,
        budget_tokens=settings.FLINT_CONTEXT_TOKENS,
        selection=_selection_text(message),
    )
    return Generation(
        backend=backend,
        request=ChatRequest(messages=messages),
        send=send,
        retry=RetryPolicy(settings.FLINT_RETRIES, settings.FLINT_RETRY_MAX_WAIT),
        frame_interval=settings.FLINT_FRAME_INTERVAL,
        frame_max_tokens=settings.FLINT_FRAME_MAX_TOKENS,
        # Edits are computed against the files the client sent with gen.start;
        # the page rebases them onto whatever the user typed since.
        edits=EditStream(dict(message.files), active=message.active),
        on_edit=edit_to_wire,
    )


def edit_to_wire(event: EditEvent) -> dict[str, Any]:
    kind = "gen.edit" if isinstance(event, EditApplied) else "gen.edit_rejected"
    return {"type": kind, **event.to_wire()}


def _selection_text(message: protocol.GenStart) -> tuple[str, str] | None:
    sel = message.selection
    if sel is None or sel.path not in message.files:
        return None
    text = message.files[sel.path]
    # Wire offsets are UTF-16 units (the editor's); Python indexes code points.
    return sel.path, text[utf16_to_py(text, sel.start) : utf16_to_py(text, sel.end)]
