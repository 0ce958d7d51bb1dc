"""HTTP API for a playground's history: save, list, inspect, restore, share.

JSON in and out; every failure is the one error shape (protocol.error). Every
request is checked against the owner cookie (or claiming account) itself.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from playground import persistence
from playground.errors import FlintError
from playground.models import Playground, Revision
from playground.persistence.ownership import request_owner_token
from playground.web.access import error_response, json_error, owner_required, require_json

Version = Annotated[int, msgspec.Meta(ge=0)]


class SaveBody(msgspec.Struct, forbid_unknown_fields=True):
    files: dict[str, str]
    base_version: Version


class RestoreBody(msgspec.Struct, forbid_unknown_fields=True):
    base_version: Version


def _method(request: HttpRequest, allowed: str) -> JsonResponse | None:
    if request.method != allowed:
        return json_error(405, "http.method", f"Use {allowed} here.")
    return None


def _decode(request: HttpRequest, body_type: type[Any]) -> Any:
    """The decoded body, or a JsonResponse saying what is wrong with it."""
    if (refused := require_json(request)) is not None:
        return refused
    try:
        return msgspec.json.decode(request.body, type=body_type)
    except RequestDataTooBig:
        return json_error(413, "protocol.too_large", "The body is too large.")
    except msgspec.DecodeError as exc:
        return json_error(400, "protocol.invalid", f"Invalid body: {exc}.")


def _saved(result: persistence.SaveResult) -> JsonResponse:
    return JsonResponse({"version": result.version, "saved": result.saved})


def revision_json(rev: Revision) -> dict[str, Any]:
    return {
        "number": rev.number,
        "author": rev.author,
        "generation_id": rev.generation_id,
        "instruction": rev.instruction,
        "created_at": rev.created_at.isoformat(),
    }


@owner_required
def revisions(request: HttpRequest, playground: Playground) -> HttpResponse:
    if (refused := _method(request, "GET")) is not None:
        return refused
    items = [revision_json(r) for r in persistence.revision_list(playground.id)]
    return JsonResponse({"version": playground.version, "revisions": items})


@owner_required
def revision(request: HttpRequest, playground: Playground, number: int) -> HttpResponse:
    if (refused := _method(request, "GET")) is not None:
        return refused
    try:
        rev = persistence.revision_get(playground.id, number)
    except FlintError as exc:
        return error_response(exc)
    # What this revision changed (against the one before it), and what lies
    # between it and the current files (what a restore would undo).
    changes = persistence.revision_changes(playground.id, number)
    to_current = persistence.revision_diff(playground.id, number)
    return JsonResponse(
        {
            **revision_json(rev),
            "files": rev.files,
            "current_version": playground.version,
            "previous": number - 1 if number > 1 else None,
            "diff": [d.to_json() for d in changes],
            "diff_to_current": [d.to_json() for d in to_current],
        }
    )


# Writes below are csrf_exempt: they require a JSON content type, which a
# cross-site page cannot send without a CORS preflight (that we never grant),
# and the owner cookie is SameSite=Lax besides.
@csrf_exempt
@owner_required
def restore(request: HttpRequest, playground: Playground, number: int) -> HttpResponse:
    if (refused := _method(request, "POST")) is not None:
        return refused
    body = _decode(request, RestoreBody)
    if isinstance(body, HttpResponse):
        return body
    try:
        return _saved(
            persistence.revision_restore(playground.id, number, base_version=body.base_version)
        )
    except FlintError as exc:
        return error_response(exc)


@csrf_exempt
@owner_required
def save_files(request: HttpRequest, playground: Playground) -> HttpResponse:
    if (refused := _method(request, "PUT")) is not None:
        return refused
    body = _decode(request, SaveBody)
    if isinstance(body, HttpResponse):
        return body
    try:
        result = persistence.playground_save(
            playground.id, body.files, base_version=body.base_version, author="user"
        )
    except FlintError as exc:
        return error_response(exc)
    return _saved(result)


@csrf_exempt
@owner_required
def share(request: HttpRequest, playground: Playground) -> HttpResponse:
    if (refused := _method(request, "POST") or require_json(request)) is not None:
        return refused
    link = persistence.share_create(
        playground.id, request_owner_token(request), user=getattr(request, "user", None)
    )
    url = request.build_absolute_uri(reverse("share", args=[link.id]))
    return JsonResponse({"id": link.id, "url": url, "version": link.revision.number}, status=201)
