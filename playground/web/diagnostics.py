"""What is wrong with the server's configuration, as the page shows it.

A server started without ``manage.py check`` (``daphne flint.asgi:application``) can
still be misconfigured; the playground page lists those problems (the system checks
of playground/checks.py) in a banner instead of leaving the visitor with a socket
that reconnects forever. It also tells apart the one refusal a page cannot see: the
socket's Origin check (flint/asgi.py ``ExactOriginValidator``; a refused handshake
reaches the browser as a bare close).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from playground import checks

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(text: str) -> str | None:
    """``scheme://host:port`` as flint/asgi.py compares origins; None if not one."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def socket_origin_problem(request: HttpRequest) -> dict[str, str] | None:
    """The socket would refuse this page's origin, or None."""
    page = f"{request.scheme}://{request.get_host()}"
    origin = _origin(page)
    preview = settings.FLINT_PREVIEW_ORIGIN
    if preview and origin == _origin(preview):
        return {
            "level": "error",
            "id": "flint.origin",
            "message": (
                f"This page is open at the preview origin ({page}, FLINT_PREVIEW_ORIGIN), "
                "which runs users' code, so the server refuses its live connection."
            ),
            "hint": "Open Flint at its own address instead.",
        }
    allowed = settings.FLINT_ALLOWED_ORIGINS
    if not allowed or origin in {_origin(o) for o in allowed}:
        return None  # unset: the socket allows exactly the origin the page came from
    return {
        "level": "error",
        "id": "flint.origin",
        "message": (
            f"This page's address ({page}) is not in FLINT_ALLOWED_ORIGINS "
            f"({', '.join(allowed)}), so the server refuses its live connection."
        ),
        "hint": (
            f"Add {page} to FLINT_ALLOWED_ORIGINS (scheme, host and port must match), "
            "or open Flint at one of those addresses."
        ),
    }


def page_problems(request: HttpRequest) -> list[dict[str, str]]:
    found = checks.problems()
    origin = socket_origin_problem(request)
    return [origin, *found] if origin else found
