"""HTTP API: one generation per request, streamed as Server-Sent Events.

For scripts and tools that cannot hold a WebSocket. The page itself uses the
socket (one connection, many turns); the benchmark compares the two. A
generation started here is the same as one started over the socket (the same
``start_generation``: claimed, recorded, rate limited, stoppable from the page);
this response follows it through the hub. The events are the socket's events,
one ``data:`` line each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from playground import protocol
from playground.errors import FlintError
from playground.generations.runner import Generation
from playground.generations.service import Requester, start_generation
from playground.hub import get_hub
from playground.inference.catalog import backend_key, effective
from playground.persistence import access_check
from playground.persistence.ownership import request_owner_token
from playground.web.access import error_response, json_error, require_json

_start_decoder = msgspec.json.Decoder(protocol.GenStart)


# The owner cookie authorises this, but a JSON content type cannot be sent
# cross-site without a CORS preflight (which Flint never grants), so a forged
# cross-site request cannot reach it and CSRF tokens add nothing.
@csrf_exempt
async def generate(
    request: HttpRequest, playground_id: str
) -> HttpResponse | StreamingHttpResponse:
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
    choice, _note = effective(state.model, state.model_endpoint)
    try:
        generation = await start_generation(
            playground_id, message, requester, model=backend_key(choice)
        )
    except FlintError as exc:  # gen.busy, rate.limited, gen.too_large
        return error_response(exc)
    return StreamingHttpResponse(
        _events(generation),
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(generation: Generation) -> AsyncIterator[bytes]:
    try:
        async for event in get_hub().follow(generation.id):
            yield b"data: " + orjson.dumps(event) + b"\n\n"
    finally:
        generation.cancel("stopped")  # client went away: close the upstream stream too
