"""HTTP views: create a playground, open it."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from playground import persistence, protocol
from playground.models import Playground
from playground.persistence.ownership import ensure_owner_token, set_owner_cookie
from playground.persistence.starters import TEMPLATE_LABELS
from playground.preview.csp import playground_page_headers
from playground.web.access import request_is_owner
from playground.web.diagnostics import page_problems

_PLAYGROUND_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@require_GET
def new_playground(request: HttpRequest) -> HttpResponse:
    # The creator's browser holds the owner capability (playground/ownership.py).
    token, is_new = ensure_owner_token(request)
    try:
        playground = persistence.playground_create(
            request.GET.get("template", "web"), owner_token=token
        )
    except persistence.UnknownTemplateError as exc:
        return HttpResponseBadRequest(str(exc))
    response = redirect("playground", playground_id=playground.id)
    if is_new:
        set_owner_cookie(request, response, token)
    return response


@playground_page_headers
@require_GET
def playground(request: HttpRequest, playground_id: str) -> HttpResponse:
    # Ids are url-safe base64; anything else (a NUL byte, say) cannot exist and
    # must not reach the database (PostgreSQL rejects NUL in a query).
    if not _PLAYGROUND_ID.fullmatch(playground_id):
        raise Http404("No such playground.")
    pg = get_object_or_404(Playground, id=playground_id)
    owner = request_is_owner(request, pg)
    boot = page_boot(request, pg, owner=owner)
    # The finished answers, for the transcript (the owner's instructions: owner only).
    boot["transcript"] = persistence.transcript_records(pg.id) if owner else []
    if owner and (presenting := persistence.presentation_running(pg.id)) is not None:
        boot["presenting"] = {"id": presenting.id}  # the page goes on presenting
    return render_page(request, pg, boot)


def page_boot(request: HttpRequest, pg: Playground, *, owner: bool) -> dict[str, Any]:
    """What the app page starts from (the ``flint-boot`` JSON): a playground's or a live link's."""
    return {
        "playground": pg.id,
        "template": pg.template,
        "files": pg.files,
        "version": pg.version,
        "title": pg.title,
        "role": "owner" if owner else "viewer",
        "ws_path": f"/ws/p/{pg.id}/",
        "protocol": protocol.PROTOCOL_VERSION,
        "max_message_bytes": settings.FLINT_MAX_MESSAGE_BYTES,
        "templates": TEMPLATE_LABELS,
        # Configuration problems the page shows in a banner (playground/checks.py).
        "problems": page_problems(request),
        "transcript": [],
    }


def render_page(request: HttpRequest, pg: Playground, boot: dict[str, Any]) -> HttpResponse:
    # Pyodide loads its files by their own names from this folder, so it is the
    # plain folder URL (collectstatic keeps unhashed copies beside the hashed ones).
    pyodide_url = f"{settings.STATIC_URL}pyodide/"
    return render(
        request,
        "playground/index.html",
        {"boot": boot, "playground": pg, "pyodide_url": pyodide_url},
    )


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for process supervisors and the test harness."""
    return HttpResponse("ok", content_type="text/plain")
