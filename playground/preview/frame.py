"""``GET /preview/frame?origin=<app origin>``: the empty document the live preview runs in.

The page embeds it in ``<iframe sandbox="allow-scripts">`` (never
allow-same-origin). The document is only a bootstrap (``static/flint/preview-frame.js``)
that receives the user's page over ``postMessage`` from ``origin`` and renders it;
the user's code then runs in an opaque origin that can reach nothing of Flint's.

``origin`` must be an app origin on the allow-list (``FLINT_ALLOWED_ORIGINS``, or
the hosts of ``ALLOWED_HOSTS``): the frame only talks to that origin, and its
``frame-ancestors`` only lets that origin embed it. Serve it from a separate
site with ``FLINT_PREVIEW_ORIGIN`` (README "Configuration").
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.templatetags.static import static
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from playground.preview.csp import allowed_app_origin, frame_policy, serialize

_PAGE = """<!doctype html>
<html lang="en" data-parent-origin="{origin}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="{script}"></script>
</head>
<body></body>
</html>
"""


@require_safe
@xframe_options_exempt  # framing is governed by the CSP's frame-ancestors instead
def preview_frame(request: HttpRequest) -> HttpResponse:
    origin = request.GET.get("origin", "")
    if not allowed_app_origin(origin):
        return HttpResponseBadRequest(
            "origin: not an allowed Flint origin", content_type="text/plain"
        )
    body = _PAGE.format(origin=escape(origin), script=escape(static("flint/preview-frame.js")))
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = serialize(frame_policy(request, origin))
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    return response
