"""Live links ("Present"): start and end a presentation, its page, and Fork.

The presenter's page starts one (``POST /api/p/<id>/present``) and then sends its
editors' changes over its socket (playground/socket/presenter.py); viewers open
``/live/<presentation>/``: the app page, read-only, following the presentation
over ``/ws/live/<presentation>/``. When the presenter ends it the last state is
kept, and the link goes on showing it. Fork copies what the link shows at that
moment into a new playground of the viewer's own.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async as sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from playground import persistence
from playground.errors import FlintError
from playground.live import get_live, reopen
from playground.models import Presentation
from playground.persistence.ownership import (
    ensure_owner_token,
    request_owner_token,
    set_owner_cookie,
)
from playground.preview.csp import page_headers
from playground.web.access import error_response, json_error, require_json
from playground.web.pages import page_boot, render_page
from playground.web.share import not_found, private


async def _signed_in(request: HttpRequest) -> Any:
    auser = getattr(request, "auser", None)  # with Django's auth middleware
    user = await auser() if auser is not None else None
    return user if user is not None and user.is_authenticated else None


def _live_url(request: HttpRequest, presentation: Presentation) -> str:
    return request.build_absolute_uri(reverse("live", args=[presentation.id]))


async def _answer(request: HttpRequest, presentation: Presentation, status: int) -> JsonResponse:
    live = get_live()
    return JsonResponse(
        {
            "id": presentation.id,
            "url": _live_url(request, presentation),
            "viewers": await live.viewers(presentation.id),
            "ended": presentation.ended_at is not None,
        },
        status=status,
    )


@csrf_exempt  # JSON only (require_json): a cross-site form cannot send it
@require_POST
async def present_start(request: HttpRequest, playground_id: str) -> HttpResponse:
    if (refused := require_json(request)) is not None:
        return refused
    user = await _signed_in(request)
    try:
        presentation = await sync_to_async(persistence.presentation_start)(
            playground_id, request_owner_token(request), user=user
        )
    except FlintError as exc:  # playground.not_found, auth.forbidden
        return error_response(exc)
    # The saved files until the presenter's page sends its own (its first push).
    await reopen(presentation)
    return await _answer(request, presentation, 201)


@csrf_exempt
@require_POST
async def present_end(request: HttpRequest, playground_id: str) -> HttpResponse:
    if (refused := require_json(request)) is not None:
        return refused
    user = await _signed_in(request)
    presentation = await persistence.presentation_running_async(playground_id)
    if presentation is None:
        return json_error(404, "live.not_presenting", "This playground is not being presented.")
    if not await sync_to_async(persistence.is_owner)(
        presentation.playground, request_owner_token(request), user
    ):
        return json_error(403, "auth.forbidden", "Only the owner can end the presentation.")
    state = await get_live().end(playground_id, presentation.id)
    files = state.files if state is not None else presentation.playground.files
    try:
        await sync_to_async(persistence.presentation_end)(
            presentation, request_owner_token(request), files, user=user
        )
    except FlintError as exc:
        return error_response(exc)
    return await _answer(request, presentation, 200)


async def _shown(presentation: Presentation) -> dict[str, str]:
    """The files the link shows now: the live state, or the last one kept."""
    if presentation.ended_at is None:
        state = await get_live().snapshot(presentation.id)
        if state is not None:
            return state.files
    return dict(presentation.files or presentation.playground.files)


@require_GET
async def live_page(request: HttpRequest, presentation_id: str) -> HttpResponse:
    try:
        presentation = await persistence.presentation_get_async(presentation_id)
    except persistence.PresentationNotFoundError:
        gone: HttpResponse = await sync_to_async(not_found)(request)
        return gone
    pg = presentation.playground
    boot = await sync_to_async(page_boot)(request, pg, owner=False)
    # The live link is the viewer's only handle: the playground's own id (a read
    # capability of its own, /p/<id>/, which outlives the presentation) is not shown.
    boot["playground"] = presentation.id
    boot["files"] = await _shown(presentation)
    boot["ws_path"] = f"/ws/live/{presentation.id}/"
    boot["live"] = {"id": presentation.id, "ended": presentation.ended_at is not None}
    response = await sync_to_async(render_page)(request, pg, boot)
    return private(page_headers(request, response, isolated=pg.template == "python"))


@require_POST
async def live_fork(request: HttpRequest, presentation_id: str) -> HttpResponse:
    token, is_new = ensure_owner_token(request)
    try:
        presentation = await persistence.presentation_get_async(presentation_id)
    except persistence.PresentationNotFoundError:
        gone: HttpResponse = await sync_to_async(not_found)(request)
        return gone
    user = await _signed_in(request)
    files = await _shown(presentation)
    playground = await sync_to_async(persistence.presentation_fork)(
        presentation, files, token, owner_user=user
    )
    response = redirect("playground", playground_id=playground.id)
    if is_new:
        set_owner_cookie(request, response, token)
    return response
