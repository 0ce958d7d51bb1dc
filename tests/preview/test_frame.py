"""The preview frame's document and the CSP of the playground page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from playground import persistence

pytestmark = [pytest.mark.django_db]

APP = "http://127.0.0.1:8000"


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_the_frame_is_sandboxed_and_talks_only_to_the_app() -> None:
    resp = Client().get("/preview/frame", {"origin": APP}, HTTP_HOST="127.0.0.1:8000")
    assert resp.status_code == 200
    csp = directives(resp["Content-Security-Policy"])
    assert csp["sandbox"] == ["allow-scripts"]
    assert csp["default-src"] == ["'none'"]
    assert csp["connect-src"] == ["'none'"]
    assert csp["form-action"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == [APP]
    assert "http://127.0.0.1:8000/static/flint/preview-frame.js" in csp["script-src"]
    assert "X-Frame-Options" not in resp  # frame-ancestors governs framing
    body = resp.content.decode()
    assert f'data-parent-origin="{APP}"' in body and "/static/flint/preview-frame.js" in body


@pytest.mark.parametrize(
    "origin",
    ["", "http://evil.example", "javascript:alert(1)", f"{APP}/path", "http://user@127.0.0.1"],
)
def test_the_frame_refuses_origins_off_the_allow_list(origin: str) -> None:
    resp = Client().get("/preview/frame", {"origin": origin}, HTTP_HOST="127.0.0.1:8000")
    assert resp.status_code == 400


@override_settings(FLINT_ALLOWED_ORIGINS=["https://flint.example"])
def test_the_frame_follows_the_explicit_origin_list() -> None:
    client = Client()
    assert client.get("/preview/frame", {"origin": "https://flint.example"}).status_code == 200
    assert client.get("/preview/frame", {"origin": APP}).status_code == 400


def test_the_playground_page_sends_its_csp() -> None:
    pg = persistence.playground_create("web", owner_token="t" * 32)
    resp = Client().get(f"/p/{pg.id}/", HTTP_HOST="127.0.0.1:8000")
    csp = directives(resp["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert csp["connect-src"] == ["'self'", "ws://127.0.0.1:8000"]
    assert csp["frame-src"] == ["http://127.0.0.1:8000/preview/frame"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert "Cross-Origin-Embedder-Policy" not in resp
    assert (
        'data-src="http://127.0.0.1:8000/preview/frame?origin=http%3A%2F%2F127.0.0.1%3A8000"'
        in (resp.content.decode())
    )


@override_settings(FLINT_PREVIEW_ORIGIN="http://localhost:8001")
def test_a_separate_preview_origin_is_used_for_the_frame() -> None:
    pg = persistence.playground_create("web", owner_token="t" * 32)
    resp = Client().get(f"/p/{pg.id}/", HTTP_HOST="127.0.0.1:8000")
    assert directives(resp["Content-Security-Policy"])["frame-src"] == [
        "http://localhost:8001/preview/frame"
    ]
    assert 'data-src="http://localhost:8001/preview/frame?origin=' in resp.content.decode()


def test_python_pages_are_cross_origin_isolated() -> None:
    pg = persistence.playground_create("python", owner_token="t" * 32)
    resp = Client().get(f"/p/{pg.id}/", HTTP_HOST="127.0.0.1:8000")
    assert resp["Cross-Origin-Opener-Policy"] == "same-origin"
    assert resp["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert directives(resp["Content-Security-Policy"])["frame-src"] == ["'none'"]
