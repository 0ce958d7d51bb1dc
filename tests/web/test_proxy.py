"""X-Forwarded-For/-Proto are believed from trusted proxies only (flint/proxy.py).

The end-to-end version (nginx in front of two Daphne processes, the per-IP limiter
keyed on the forwarded client) is tests/servers/test_scaled.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from flint.proxy import TrustedProxy, client_address, parse_networks

LOOPBACK = parse_networks(["127.0.0.1", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "xff", "client"),
    [
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),  # nginx on this machine
        ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # left one: the client's own
        ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # past a trusted inner hop
        ("127.0.0.1", "", "127.0.0.1"),  # no header: the proxy itself
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.7:5555", "203.0.113.7"),
        ("127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("192.0.2.9", "203.0.113.7", "192.0.2.9"),  # not a proxy: its header is ignored
        (None, "203.0.113.7", None),
    ],
)
def test_client_address(peer: str | None, xff: str, client: str | None) -> None:
    assert client_address(peer, xff, LOOPBACK) == client


async def _seen(app_trusted: list[str], scope: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    await TrustedProxy(app, app_trusted)(scope, None, None)
    return seen


def _scope(kind: str, peer: str, **headers: str) -> dict[str, Any]:
    return {
        "type": kind,
        "scheme": "ws" if kind == "websocket" else "http",
        "client": (peer, 40000),
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"flint.example")],
    }


async def test_a_trusted_proxy_sets_the_client_and_the_scheme() -> None:
    scope = _scope(
        "websocket", "127.0.0.1", x_forwarded_for="203.0.113.7", x_forwarded_proto="https"
    )
    seen = await _seen(["127.0.0.1"], scope)
    assert seen["client"] == ("203.0.113.7", 0)
    assert seen["scheme"] == "wss"
    http = await _seen(["127.0.0.1"], _scope("http", "127.0.0.1", x_forwarded_proto="https"))
    assert http["scheme"] == "https"
    assert (b"x-forwarded-proto", b"https") in http["headers"]


@pytest.mark.parametrize("trusted", [[], ["10.0.0.0/8"]])
async def test_anyone_else_has_the_headers_removed(trusted: list[str]) -> None:
    scope = _scope("http", "127.0.0.1", x_forwarded_for="203.0.113.7", x_forwarded_proto="https")
    seen = await _seen(trusted, scope)
    assert seen["client"] == ("127.0.0.1", 40000)
    assert seen["scheme"] == "http"
    assert [k for k, _ in seen["headers"]] == [b"host"]  # SECURE_PROXY_SSL_HEADER sees nothing


async def test_lifespan_passes_through() -> None:
    seen = await _seen(["127.0.0.1"], {"type": "lifespan"})
    assert seen == {"type": "lifespan"}


async def test_a_bad_entry_trusts_nobody_rather_than_failing() -> None:
    scope = _scope("http", "127.0.0.1", x_forwarded_for="203.0.113.7")
    seen = await _seen(["nginx"], scope)
    assert seen["client"] == ("127.0.0.1", 40000)


def test_cookies_of_an_https_request_are_secure() -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from flint.proxy import SecureCookies

    def view(request: Any) -> HttpResponse:
        response = HttpResponse("ok")
        response.set_cookie("csrftoken", "x")
        return response

    middleware = SecureCookies(view)
    assert middleware(RequestFactory().get("/", secure=True)).cookies["csrftoken"]["secure"]
    assert not middleware(RequestFactory().get("/")).cookies["csrftoken"]["secure"]
