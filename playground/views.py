"""HTTP views: create a playground, open it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from . import protocol, services
from .models import Playground
from .templates_start import TEMPLATE_LABELS


@require_GET
def new_playground(request: HttpRequest) -> HttpResponse:
    try:
        playground = services.playground_create(request.GET.get("template", "web"))
    except services.UnknownTemplateError as exc:
        return HttpResponseBadRequest(str(exc))
    return redirect("playground", playground_id=playground.id)


@require_GET
def playground(request: HttpRequest, playground_id: str) -> HttpResponse:
    pg = get_object_or_404(Playground, id=playground_id)
    boot = {
        "playground": pg.id,
        "template": pg.template,
        "files": pg.files,
        "ws_path": f"/ws/p/{pg.id}/",
        "protocol": protocol.PROTOCOL_VERSION,
        "max_message_bytes": settings.FLINT_MAX_MESSAGE_BYTES,
        "templates": TEMPLATE_LABELS,
    }
    return render(request, "playground/index.html", {"boot": boot, "playground": pg})


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for process supervisors and the test harness."""
    return HttpResponse("ok", content_type="text/plain")
