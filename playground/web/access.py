"""HTTP plumbing shared by the history, sharing and transfer views.

One JSON error builder (the wire's one error shape, protocol.error) and the
owner check every mutating or private request goes through, on every request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from playground import protocol
from playground.errors import FlintError
from playground.models import Playground
from playground.persistence import PlaygroundNotFoundError, is_owner, playground_get
from playground.persistence.ownership import request_owner_token

View = Callable[..., HttpResponse]


def json_error(status: int, code: str, message: str, **detail: Any) -> JsonResponse:
    return JsonResponse(protocol.error(code, message, **detail), status=status)


def error_response(exc: FlintError) -> JsonResponse:
    """Any FlintError as the one error shape, with its HTTP status."""
    response = JsonResponse(protocol.error_from(exc), status=exc.status)
    if exc.retry_after is not None:
        response["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response


def request_is_owner(request: HttpRequest, playground: Playground) -> bool:
    return is_owner(playground, request_owner_token(request), getattr(request, "user", None))


def owner_required(view: View) -> View:
    """Load ``playground_id`` and pass the Playground on, or answer 404 / 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, playground_id: str, **kwargs: Any) -> HttpResponse:
        try:
            playground = playground_get(playground_id)
        except PlaygroundNotFoundError:
            return json_error(404, "playground.not_found", "No playground has that id.")
        if not request_is_owner(request, playground):
            return json_error(
                403,
                "auth.forbidden",
                "Only the playground's owner can do this; fork it to get your own copy.",
            )
        return view(request, playground, **kwargs)

    return wrapper


def require_json(request: HttpRequest) -> JsonResponse | None:
    """415 unless the body is declared JSON (a cross-site form cannot declare that)."""
    if request.content_type != "application/json":
        return json_error(415, "http.content_type", "Send the body as application/json.")
    return None
