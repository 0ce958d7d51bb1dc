"""Content-Security-Policy for the playground page and the preview frame.

Two documents, two policies (docs: README "Preview isolation"):

* the **app page** (``/p/<id>/``) runs only Flint's own bundle: scripts from
  ``'self'`` (plus ``'wasm-unsafe-eval'`` so Pyodide can compile WebAssembly),
  sockets only to its own host, frames only from the preview origin;
* the **preview frame** (``/preview/frame``) runs hostile code: it is sandboxed
  by its own CSP (``sandbox allow-scripts`` → an opaque origin even when opened
  directly), may not connect anywhere, and may be framed only by the app.

Python playground pages are also made cross-origin isolated (COOP + COEP), so
``SharedArrayBuffer`` exists and a running Python program can be interrupted
through Pyodide's interrupt buffer. Web playgrounds are not: COEP would demand
CORP/COEP headers of the preview frame and of everything a user's page loads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import validate_host
from django.templatetags.static import static

Policy = dict[str, list[str]]


def serialize(policy: Policy) -> str:
    return "; ".join(
        " ".join([name, *values]) if values else name for name, values in policy.items()
    )


def request_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def preview_origin(request: HttpRequest) -> str:
    """Where the preview frame is served from: FLINT_PREVIEW_ORIGIN, or this server."""
    configured = getattr(settings, "FLINT_PREVIEW_ORIGIN", "")
    return configured.rstrip("/") if configured else request_origin(request)


def app_policy(request: HttpRequest, *, isolated: bool = False) -> Policy:
    host = request.get_host()
    ws = "wss" if request.is_secure() else "ws"
    frame = preview_origin(request)
    return {
        "default-src": ["'self'"],
        # Only the bundle; Pyodide (Python pages) compiles WebAssembly.
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        # CodeMirror injects <style> elements (style-mod) and style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        # The playground socket on this host only; fetches to this origin
        # (Pyodide's runtime files, the JSON API).
        "connect-src": ["'self'", f"{ws}://{host}"],
        "worker-src": ["'self'"],
        "frame-src": ["'none'"] if isolated else [frame + "/preview/frame"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


def frame_policy(request: HttpRequest, parent_origin: str) -> Policy:
    here = request_origin(request)
    return {
        # An opaque origin even if someone opens /preview/frame directly.
        "sandbox": ["allow-scripts"],
        "default-src": ["'none'"],
        # The bootstrap (a static file of this server) and the user's inline
        # scripts. 'unsafe-inline'/'unsafe-eval' are fine here: the document is
        # sandboxed into an opaque origin that owns nothing, and connect-src,
        # form-action and navigation limits keep it from talking to anyone.
        # (Its URL as served: with FLINT_STATIC_MANIFEST it carries its content hash.)
        "script-src": [
            f"{here}{static('flint/preview-frame.js')}",
            "'unsafe-inline'",
            "'unsafe-eval'",
        ],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["data:", "blob:"],
        "font-src": ["data:"],
        "media-src": ["data:", "blob:"],
        "connect-src": ["'none'"],
        "form-action": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": [parent_origin],
    }


def share_policy(*, embed: bool = False) -> Policy:
    """The share page and its embed: the same limits as the live preview frame.

    Their preview is a ``srcdoc`` iframe (sandbox="allow-scripts"), and a srcdoc
    document inherits its parent's policy, so this policy is the one the shared
    code runs under: it may run inline scripts, and reach nothing (no fetch,
    socket or beacon, no form posts, no base change), like the live preview.
    The page itself runs no script at all; its Fork form posts to this origin
    (the sandboxed frame cannot submit forms: no allow-forms).
    """
    return {
        "default-src": ["'none'"],
        "script-src": ["'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["data:", "blob:"],
        "font-src": ["data:"],
        "media-src": ["data:", "blob:"],
        "connect-src": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["*"] if embed else ["'none'"],
    }


def allowed_app_origin(origin: str) -> bool:
    """May a page of this origin embed the preview frame? Same rule as the socket's."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        return False
    if settings.FLINT_ALLOWED_ORIGINS:
        return origin in settings.FLINT_ALLOWED_ORIGINS
    return validate_host(parts.hostname or "", settings.ALLOWED_HOSTS)


def playground_page_headers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator for the playground page view: its CSP (and COOP/COEP on Python pages)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        return page_headers(
            request, response, isolated=_is_python_page(kwargs.get("playground_id"))
        )

    return wrapped


def page_headers(request: HttpRequest, response: HttpResponse, *, isolated: bool) -> HttpResponse:
    """The app page's CSP on ``response`` (and COOP/COEP when it runs Python: ``isolated``)."""
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        return response
    response["Content-Security-Policy"] = serialize(app_policy(request, isolated=isolated))
    if isolated:
        response["Cross-Origin-Opener-Policy"] = "same-origin"
        response["Cross-Origin-Embedder-Policy"] = "require-corp"
    return response


def _is_python_page(playground_id: object) -> bool:
    from playground.models import Playground

    if not isinstance(playground_id, str):
        return False
    template = (
        Playground.objects.filter(pk=playground_id).values_list("template", flat=True).first()
    )
    return template == "python"
