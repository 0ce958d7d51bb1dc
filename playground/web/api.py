"""HTTP API: one generation per request, streamed as Server-Sent Events.

For scripts and tools that cannot hold a WebSocket. The page itself uses the
socket (one connection, many turns); the benchmark compares the two. The events
are the socket's events, one ``data:`` line each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from playground import protocol
from playground.generations.prompt import ContextTooLargeError
from playground.generations.quotas import get_limiter
from playground.generations.service import RateLimitedError, Requester, admit, prepare_generation
from playground.persistence import access_check
from playground.persistence.ownership import request_owner_token
from playground.web.access import json_error, require_json

_start_decoder = msgspec.json.Decoder(protocol.GenStart)


# The owner cookie authorises this, but a JSON content type cannot be sent
# cross-site without a CORS preflight (which Flint never grants), so a forged
# cross-site request cannot reach it and CSRF tokens add nothing.
@csrf_exempt
async def generate(request: HttpRequest, playground_id: str) -> HttpResponse:
    if request.method != "POST":
        return json_error(405, "http.method", "Use POST with a gen.start JSON body.")
    if (refused := require_json(request)) is not None:
        return refused
    limit = settings.FLINT_MAX_MESSAGE_BYTES
    if len(request.body) > limit:
        return json_error(413, "protocol.too_large", f"Body is over {limit} bytes.", limit=limit)
    try:
        message = _start_decoder.decode(request.body)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        return json_error(400, "protocol.invalid", f"Invalid gen.start: {exc}.")
    token = request_owner_token(request)
    state = await access_check(playground_id, token)
    if state is None:
        return json_error(404, "playground.not_found", "No playground has that id.")
    if not state.owner:
        return json_error(403, "auth.forbidden", "Only the playground's owner can ask the model.")
    requester = Requester.of(token, request.META.get("REMOTE_ADDR"))
    try:
        await admit(requester)
    except RateLimitedError as exc:
        wait = exc.refusal.retry_after
        response = json_error(
            429,
            "rate.limited",
            exc.refusal.message(),
            retryable=True,
            retry_after=wait,
            limit=exc.refusal.what,
            scope=exc.refusal.who,
        )
        response["Retry-After"] = str(round(wait))
        return response
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    try:
        generation = prepare_generation(message, queue.put)
    except ContextTooLargeError as exc:
        return json_error(400, "gen.too_large", str(exc))

    async def charge(gen: Any, reason: str) -> None:
        await get_limiter().charge(requester.user, requester.ip, gen.stats.tokens)

    generation.on_finish = charge
    task = generation.start()

    async def events() -> AsyncIterator[bytes]:
        try:
            while True:
                event = await queue.get()
                yield b"data: " + orjson.dumps(event) + b"\n\n"
                if event["type"] == "gen.done":
                    return
        finally:
            task.cancel()  # client went away: close the upstream stream too

    return StreamingHttpResponse(
        events(),
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
