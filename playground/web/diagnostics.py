"""What is wrong with the server's configuration, as the page shows it.

A server started without ``manage.py check`` (``daphne flint.asgi:application``) can
still be misconfigured; the playground page lists those problems (the system checks
of playground/checks.py) in a banner instead of leaving the visitor with a socket
that reconnects forever. It also tells apart the one refusal a page cannot see: the
socket's Origin check (a refused handshake reaches the browser as a bare close).
"""

from __future__ import annotations

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.http import HttpRequest

from playground import checks


def socket_origin_problem(request: HttpRequest) -> dict[str, str] | None:
    """The socket would refuse this page's origin (flint/asgi.py's check), or None."""
    allowed = settings.FLINT_ALLOWED_ORIGINS
    if not allowed:
        return None  # the socket checks ALLOWED_HOSTS, which this request passed
    origin = f"{request.scheme}://{request.get_host()}"
    if OriginValidator(None, allowed).valid_origin(urlparse(origin)):
        return None
    return {
        "level": "error",
        "id": "flint.origin",
        "message": (
            f"This page's address ({origin}) is not in FLINT_ALLOWED_ORIGINS "
            f"({', '.join(allowed)}), so the server refuses its live connection."
        ),
        "hint": f"Add {origin} to FLINT_ALLOWED_ORIGINS, or open Flint at one of those addresses.",
    }


def page_problems(request: HttpRequest) -> list[dict[str, str]]:
    found = checks.problems()
    origin = socket_origin_problem(request)
    return [origin, *found] if origin else found
