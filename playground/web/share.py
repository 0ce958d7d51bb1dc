"""Share links: the read-only page, its embeddable variant, and Fork.

Server-rendered and complete without JavaScript: code highlighted with
Pygments (playground/preview/highlight.py), the web preview in a sandboxed ``srcdoc``
iframe (playground/preview/document.py). Unknown and malformed ids get the very same
404 page, so the response tells a guesser nothing.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST

from playground import persistence
from playground.models import ShareLink
from playground.persistence.ownership import ensure_owner_token, set_owner_cookie
from playground.preview.csp import serialize, share_policy
from playground.preview.document import build_srcdoc
from playground.preview.highlight import STYLESHEET, highlight_file

# Share URLs are capabilities: keep them out of other sites' Referer headers and
# search indexes. "same-origin", not "no-referrer": under no-referrer a browser
# sends "Origin: null" with the Fork form's POST, which Django's CSRF check refuses.
_PRIVATE_HEADERS = {"Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex"}


def private(response: HttpResponse) -> HttpResponse:
    for name, value in _PRIVATE_HEADERS.items():
        response[name] = value
    return response


def not_found(request: HttpRequest) -> HttpResponse:
    return private(render(request, "share/not_found.html", status=404))


def _context(link: ShareLink) -> dict[str, Any]:
    playground, files = link.playground, link.revision.files
    title = playground.title or "A Flint playground"
    description = playground.description or (
        f"{len(files)} file{'s' if len(files) != 1 else ''}, shared read-only from Flint: "
        + ", ".join(sorted(files)[:5])
    )
    return {
        "link": link,
        "title": title,
        "description": description,
        "files": [{"path": p, "html": highlight_file(p, files[p])} for p in sorted(files)],
        "srcdoc": build_srcdoc(files) if playground.template != "python" else None,
        "pygments_css": STYLESHEET,
    }


def _page(request: HttpRequest, share_id: str, template: str, *, embed: bool) -> HttpResponse:
    try:
        link = persistence.share_get(share_id)
    except persistence.ShareNotFoundError:
        return not_found(request)
    response = private(render(request, template, _context(link)))
    # The shared code runs under this policy (its srcdoc frame inherits it).
    response["Content-Security-Policy"] = serialize(share_policy(embed=embed))
    return response


@require_GET
def share_page(request: HttpRequest, share_id: str) -> HttpResponse:
    return _page(request, share_id, "share/page.html", embed=False)


@require_GET
@xframe_options_exempt
def share_embed(request: HttpRequest, share_id: str) -> HttpResponse:
    # The one page other sites may frame (every other page: X-Frame-Options DENY);
    # its CSP says frame-ancestors *.
    return _page(request, share_id, "share/embed.html", embed=True)


@require_POST
def share_fork(request: HttpRequest, share_id: str) -> HttpResponse:
    token, is_new = ensure_owner_token(request)
    try:
        playground = persistence.share_fork(share_id, token, owner_user=_signed_in(request))
    except persistence.ShareNotFoundError:
        return not_found(request)
    response = redirect("playground", playground_id=playground.id)
    if is_new:
        set_owner_cookie(request, response, token)
    return response


def _signed_in(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
