"""Who the client is and whether it came over https, behind a trusted proxy only.

Behind nginx (deploy/nginx.conf.template) every request reaches Daphne from the
proxy's address, so per-IP limits (playground/generations/quotas.py) would key on
the proxy and cookies would never be Secure. The proxy says who the client was
(``X-Forwarded-For``) and which scheme it used (``X-Forwarded-Proto``); anyone can
send those headers, so they are believed only from a peer listed in
FLINT_TRUSTED_PROXIES (addresses or networks, e.g. ``127.0.0.1`` when nginx runs
on the same machine).

``TrustedProxy`` (flint/asgi.py wraps HTTP and WebSocket in it) rewrites the ASGI
scope before anything reads it: ``scope["client"]`` (Django's ``REMOTE_ADDR``, the
socket's requester) becomes the right-most address of ``X-Forwarded-For`` that is
not itself a trusted proxy, and ``scope["scheme"]`` follows ``X-Forwarded-Proto``
(``https``/``wss``: the WebSocket origin check and ``request.is_secure()``). From
any other peer both headers are removed, so neither Django's
SECURE_PROXY_SSL_HEADER nor any later code can be fooled by a client that talks
to a Daphne port directly.

Daphne's own ``--proxy-headers`` is not used: it believes the *left-most*
``X-Forwarded-For`` address from every peer, which is exactly what a client that
wants to escape its per-IP limit writes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
ASGIApp = Callable[..., Awaitable[None]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto")
_SECURE = {"http": "https", "websocket": "wss"}
_PLAIN = {"http": "http", "websocket": "ws"}


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """``["127.0.0.1", "10.0.0.0/8"]`` as networks, bad entries left out.

    A bad entry is reported by the system checks (playground/checks.py, flint.E016);
    here it trusts nobody rather than failing the import of the ASGI application.
    """
    out: list[Network] = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return out


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str | None, networks: list[Network]) -> bool:
    ip = _ip(address) if address else None
    return ip is not None and any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: str, networks: list[Network]) -> str | None:
    """The client's address: ``peer``, or what a trusted ``peer`` forwarded.

    Walks ``X-Forwarded-For`` from the right (each proxy appends the address it
    was reached from) past trusted proxies; the first other address is the
    client. Anything left of it was written by the client and is ignored; an
    entry that is not an address stops the walk at the last trusted hop.
    """
    if not _trusted(peer, networks):
        return peer
    found = peer
    for entry in reversed([e for e in forwarded_for.split(",") if e.strip()]):
        ip = _ip(entry)
        if ip is None:
            break
        found = str(ip)
        if not any(ip in net for net in networks):
            break
    return found


class TrustedProxy:
    """Apply X-Forwarded-For/-Proto from trusted proxies; strip them from anyone else."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope.get("type")
        if kind not in _SECURE:
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers") or ())
        peer = (scope.get("client") or (None, None))[0]
        rest = [(k, v) for k, v in headers if k.lower() not in _FORWARDED]
        scope = dict(scope)
        if self.networks and _trusted(peer, self.networks):
            forwarded = {k.lower(): v.decode("latin-1") for k, v in headers if k in _FORWARDED}
            xff = ",".join(v.decode("latin-1") for k, v in headers if k.lower() == _FORWARDED[0])
            address = client_address(peer, xff, self.networks)
            if address != peer:
                scope["client"] = (address, 0)
            proto = forwarded.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
            if proto in ("https", "wss"):
                scope["scheme"] = _SECURE[kind]
            elif proto in ("http", "ws"):
                scope["scheme"] = _PLAIN[kind]
            # Django's SECURE_PROXY_SSL_HEADER reads the proto header: keep it
            # (normalized to the last hop's value) only on this trusted path.
            if proto:
                rest.append(
                    (b"x-forwarded-proto", b"https" if proto in ("https", "wss") else b"http")
                )
        scope["headers"] = rest
        await self.app(scope, receive, send)


class SecureCookies:
    """Django middleware: on an https request, every cookie set goes out Secure.

    SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE are fixed at start-up, but one
    Flint may be reached over https through the proxy and over http on
    loopback; the owner cookie already follows ``request.is_secure()``
    (playground/persistence/ownership.py), and this makes Django's own follow it.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        return self._mark(request, self.get_response(request))

    async def _acall(self, request: Any) -> Any:
        return self._mark(request, await self.get_response(request))

    @staticmethod
    def _mark(request: Any, response: Any) -> Any:
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response
