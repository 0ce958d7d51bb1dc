"""ASGI entry point: HTTP through Django, WebSocket through Channels.

Two guards wrap the application (docs/protocol.md, "Limits"):

* ``ExactOriginValidator``: a socket opens only from an allowed origin, compared
  as scheme, host and port (Channels' validators compare the host alone, so a
  page on another port of the same host could open the owner's socket). The
  allow-list is FLINT_ALLOWED_ORIGINS; unset, the one origin the request was
  made to (its Host header, with http/https for ws/wss) when that host is in
  ALLOWED_HOSTS. The preview origin, which runs the user's code, is never
  allowed.
* ``BodyLimit``: a request body over its cap (flint/serving.py ``body_cap``)
  is refused with 413 before it is read, from its Content-Length, or as soon
  as a streamed body passes the cap. Under Daphne, flint/serving.py enforces
  the same caps earlier still, before Daphne buffers the body.

Outside both, ``TrustedProxy`` (flint/proxy.py) takes the client's address and
scheme from X-Forwarded-For/-Proto when the peer is a trusted proxy
(FLINT_TRUSTED_PROXIES), and removes those headers otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flint.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402
from django.http.request import split_domain_port, validate_host  # noqa: E402

from flint import serving  # noqa: E402
from flint.proxy import TrustedProxy  # noqa: E402
from playground import protocol  # noqa: E402
from playground.socket.routing import websocket_urlpatterns  # noqa: E402

serving.install()

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(origin: str) -> str | None:
    """``scheme://host:port`` with the default port spelled out; None if not an origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


class ExactOriginValidator:
    """Accept a WebSocket only from an allowed origin: scheme, host and port all equal."""

    def __init__(
        self,
        app: ASGIApp,
        allowed: Iterable[str],
        *,
        allowed_hosts: Iterable[str],
        refused: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.allowed = {o for o in map(normalize_origin, allowed) if o}
        self.allowed_hosts = list(allowed_hosts)
        self.refused = {o for o in map(normalize_origin, refused) if o}

    def origin_allowed(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or ())
        origin = normalize_origin(headers.get(b"origin", b"").decode("latin-1"))
        if origin is None or origin in self.refused:
            return False
        if self.allowed:
            return origin in self.allowed
        # No list: the page must come from the very origin the socket was opened on.
        host = headers.get(b"host", b"").decode("latin-1")
        domain, _ = split_domain_port(host)
        if not domain or not validate_host(domain, self.allowed_hosts):
            return False
        scheme = "https" if scope.get("scheme") == "wss" else "http"
        return origin == normalize_origin(f"{scheme}://{host}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self.origin_allowed(scope):
            await receive()  # websocket.connect
            await send({"type": "websocket.close"})  # refused before the handshake: 403
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse a request body over its cap before it is read (any ASGI server)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        cap = serving.body_cap(path)
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > cap):
            await _refuse(send, 413 if length.strip().isdigit() else 400, path, cap)
            return
        seen = 0
        over = started = False

        async def counted_receive() -> dict[str, Any]:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    # To the application the client is gone (Django drops what
                    # it read and stops); the client is answered 413 below.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            if not over:
                await send(message)

        await self.app(scope, counted_receive, watched_send)
        if over and not started:
            await _refuse(send, 413, path, cap)


async def _refuse(send: Send, status: int, path: str, cap: int) -> None:
    if status == 413:
        body = serving.too_large_body(path, cap)
    else:
        body = protocol.dumps(
            protocol.error("http.bad_request", "The Content-Length header is not a number.")
        ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_ws = ExactOriginValidator(
    CookieMiddleware(URLRouter(websocket_urlpatterns)),
    settings.FLINT_ALLOWED_ORIGINS,
    allowed_hosts=settings.ALLOWED_HOSTS,
    refused=[settings.FLINT_PREVIEW_ORIGIN] if settings.FLINT_PREVIEW_ORIGIN else [],
)

# Outermost: the client's address and scheme are settled before anything reads them.
application = TrustedProxy(
    ProtocolTypeRouter({"http": BodyLimit(django_asgi_app), "websocket": _ws}),
    settings.FLINT_TRUSTED_PROXIES,
)
